/**
 * MQTT over WebSocket over TLS (`wss://`) with the TLS listener's certificate, and the count of
 * failed TLS handshakes on both TLS listeners. Real broker host, real ports, real mqtt.js clients,
 * certificates made by openssl, and a real pino logger whose lines the tests wait on.
 */
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createBrokerHost } from '../../broker/index.js';
import { brokerSource, createMetrics } from '../../src/metrics/index.js';
import { collect, type connectClient, waitFor } from '../helpers/broker-clients.js';
import { tlsSuite } from '../helpers/tls.js';

const suite = tlsSuite();
const { hosts, client, refusal } = suite;

interface LogRecord {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A real pino logger at debug whose records the test reads, and can wait for. */
function logTap() {
  const records: LogRecord[] = [];
  const waiters = new Set<() => void>();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      records.push(JSON.parse(chunk.toString()) as LogRecord);
      for (const w of waiters) w();
      done();
    },
  });
  const log = pino({ level: 'debug' }, sink);
  /** Resolves once `n` records have `msg`, with them. */
  const until = (msg: string, n: number): Promise<LogRecord[]> =>
    new Promise((resolve) => {
      const check = () => {
        const got = records.filter((r) => r.msg === msg);
        if (got.length < n) return;
        waiters.delete(check);
        resolve(got);
      };
      waiters.add(check);
      check();
    });
  return { log, until };
}

async function startHost(options: Parameters<typeof createBrokerHost>[0] = {}) {
  const host = createBrokerHost({
    host: '127.0.0.1',
    port: 0,
    tls: { port: 0, wsPort: 0, cert: suite.pki.cert, key: suite.pki.key },
    ...options,
  });
  hosts.push(host);
  const address = await host.start();
  return { host, address, wssUrl: address.wssUrl ?? '', tlsUrl: address.tlsUrl ?? '' };
}

const HANDSHAKE_FAILED = 'TLS handshake failed';
const WARN = 40;
const DEBUG = 20;

describe('broker host: MQTT over wss://', () => {
  it('serves wss:// with the TLS certificate: a wss subscriber gets a TCP publish; without the CA it is refused', async () => {
    const { address, wssUrl } = await startHost({ host: '0.0.0.0', tcpHost: '127.0.0.1' });
    expect(address.wssPort).toBeGreaterThan(0);
    expect(address.wssPort).not.toBe(address.tlsPort);
    expect(wssUrl).toBe(`wss://127.0.0.1:${address.wssPort}`);

    const sub = await client(wssUrl, { ca: suite.pki.ca });
    const got = await collect(sub, 'app/wss');
    const pub = await client(address.url);
    await pub.publishAsync('app/wss', Buffer.from('over tcp'), { qos: 1 });
    await waitFor(sub, () => got.length === 1, 'the publish over wss');
    expect(got[0]?.payload.toString()).toBe('over tcp');

    const unverified = { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' };
    expect(await refusal(wssUrl)).toMatchObject(unverified);
    expect(await refusal(wssUrl, { ca: suite.other.ca })).toMatchObject(unverified);
  });

  it('holds wss clients to maxPacketBytes, like ws', async () => {
    const { wssUrl } = await startHost({ maxPacketBytes: 10_000 });
    const big = await client(wssUrl, { ca: suite.pki.ca });
    const closed = new Promise<void>((resolve) => big.once('close', () => resolve()));
    big.publish('app/blob', Buffer.alloc(50_000), { qos: 0 });
    await closed;
    expect(big.connected).toBe(false);
  });

  it('reloadTls renews the wss certificate too; the port survives a restart', async () => {
    const { host, address, wssUrl } = await startHost();
    const before = await client(wssUrl, { ca: suite.pki.ca });
    host.reloadTls(suite.other.cert, suite.other.key);
    await client(wssUrl, { ca: suite.other.ca });
    expect(await refusal(wssUrl, { ca: suite.pki.ca })).toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    await before.subscribeAsync('still/here');

    await host.stop();
    const again = await host.start();
    expect(again.wssPort).toBe(address.wssPort);
    await client(wssUrl, { ca: suite.other.ca });
  });

  it('without tls.wsPort there is no wss listener', async () => {
    const host = createBrokerHost({
      host: '127.0.0.1',
      port: 0,
      tls: { port: 0, cert: suite.pki.cert, key: suite.pki.key },
    });
    hosts.push(host);
    const address = await host.start();
    expect(address.wssPort).toBeUndefined();
    expect(address.wssUrl).toBeUndefined();
  });
});

/** `openssl s_client` trusting only `caFile`, stopping at a certificate it cannot verify (with an alert). */
function opensslClient(port: number, caFile: string, version: '-tls1_2' | '-tls1_3'): Promise<number | null> {
  const args = ['s_client', version, '-connect', `127.0.0.1:${port}`, '-CAfile', caFile, '-verify_return_error'];
  const child = spawn('openssl', args, { stdio: ['pipe', 'ignore', 'ignore'] });
  child.stdin.end();
  return new Promise((resolve) => child.once('exit', resolve));
}

describe('broker host: failed TLS handshakes', () => {
  it('counts each on the TLS and the wss port; logs the first per address at warn, the rest at debug', async () => {
    const { log, until } = logTap();
    const { host, tlsUrl, wssUrl } = await startHost({ log });
    expect(host.stats().tlsHandshakeFailures).toBe(0);

    // mqtt.js without our CA: it hangs up during the handshake.
    expect(await refusal(tlsUrl)).toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    const [first] = await until(HANDSHAKE_FAILED, 1);
    expect(first).toMatchObject({ level: WARN, listener: 'mqtts', remote: '127.0.0.1' });
    expect(host.stats().tlsHandshakeFailures).toBe(1);

    // The same address again (a node retrying): counted, logged at debug only.
    await refusal(tlsUrl, { ca: suite.other.ca });
    const second = (await until(HANDSHAKE_FAILED, 2))[1];
    expect(second).toMatchObject({ level: DEBUG, listener: 'mqtts' });
    expect(host.stats().tlsHandshakeFailures).toBe(2);

    expect(await refusal(wssUrl)).toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    const third = (await until(HANDSHAKE_FAILED, 3))[2];
    expect(third).toMatchObject({ level: DEBUG, listener: 'wss', remote: '127.0.0.1' });
    expect(host.stats().tlsHandshakeFailures).toBe(3);

    // Another address gets its own warn.
    await refusal(tlsUrl, { localAddress: '127.0.0.2' } as Parameters<typeof connectClient>[1]);
    const fourth = (await until(HANDSHAKE_FAILED, 4))[3];
    expect(fourth).toMatchObject({ level: WARN, remote: '127.0.0.2' });

    // Plain MQTT on the TLS port is a failed handshake too.
    await refusal(tlsUrl.replace('mqtts:', 'mqtt:'));
    await until(HANDSHAKE_FAILED, 5);
    expect(host.stats().tlsHandshakeFailures).toBe(5);

    // Clients that trust the CA are not counted, and the count is exported.
    await client(tlsUrl, { ca: suite.pki.ca });
    await client(wssUrl, { ca: suite.pki.ca });
    const metrics = createMetrics({ processMetrics: false });
    metrics.addBrokerSource('b', brokerSource(host));
    expect(await metrics.text()).toMatch(/^dameso_broker_tls_handshake_failures_total\{broker="b"\} 5$/m);
  });

  it('counts a client that refuses the certificate with an alert (OpenSSL), in TLS 1.2 and 1.3', async () => {
    const { log, until } = logTap();
    const { host, address } = await startHost({ log });
    expect(await opensslClient(address.tlsPort ?? 0, suite.other.files.ca, '-tls1_2')).not.toBe(0);
    expect(await opensslClient(address.wssPort ?? 0, suite.other.files.ca, '-tls1_3')).not.toBe(0);
    const failures = await until(HANDSHAKE_FAILED, 2);
    // Sorted: the two refusals are not ordered on the broker's side.
    expect(failures.map((r) => [r.listener, r.code]).sort()).toEqual([
      ['mqtts', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'],
      ['wss', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'],
    ]);
    expect(host.stats().tlsHandshakeFailures).toBe(2);
  });
});

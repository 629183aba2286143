import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls, { type TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerAuth, createBrokerHost, createFileAuth, setCredential } from '../../broker/index.js';
import { BrokerCertificateError } from '../../src/transport/index.js';
import type { connectClient } from '../helpers/broker-clients.js';
import { fixedHandler, NodePool, YES } from '../helpers/node-fixtures.js';
import { tlsSuite } from '../helpers/tls.js';

const CHEAP = { ln: 10, r: 8, p: 1 };

const suite = tlsSuite();
const { hosts, client, refusal } = suite;

async function startHost(options: Parameters<typeof createBrokerHost>[0] = {}) {
  const host = createBrokerHost({ port: 0, tls: { port: 0, cert: suite.pki.cert, key: suite.pki.key }, ...options });
  hosts.push(host);
  const address = await host.start();
  return { host, address, tlsUrl: address.tlsUrl ?? '' };
}

/** A plain TCP connect: resolves true once connected, false on ECONNREFUSED. */
function tcpReachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? resolve(false) : reject(err)));
  });
}

describe('broker host: MQTT over TLS', () => {
  it('serves mqtts:// next to mqtt:// and shows both addresses', async () => {
    const { address, tlsUrl } = await startHost({ host: '0.0.0.0', tcpHost: '127.0.0.1' });
    expect(address.tlsPort).toBeGreaterThan(0);
    expect(tlsUrl).toBe(`mqtts://127.0.0.1:${address.tlsPort}`);
    expect(address.url).toBe(`mqtt://127.0.0.1:${address.port}`);
    const c = await client(tlsUrl, { ca: suite.pki.ca });
    // TLS 1.2 at least (minVersion), and TCP_NODELAY works on the TLS socket like on TCP.
    const socket = c.stream as unknown as TLSSocket;
    expect(socket.encrypted).toBe(true);
    expect(['TLSv1.2', 'TLSv1.3']).toContain(socket.getProtocol());
  });

  it('refuses a client that does not trust the CA: certificate verification fails', async () => {
    const { tlsUrl } = await startHost();
    // No CA: the system store does not know our private CA.
    expect(await refusal(tlsUrl)).toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    // Another CA.
    expect(await refusal(tlsUrl, { ca: suite.other.ca })).toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    // The right CA, but a name the certificate does not list.
    expect(await refusal(tlsUrl, { ca: suite.pki.ca, servername: 'not-listed.test' })).toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
    // The right CA: connects.
    await client(tlsUrl, { ca: suite.pki.ca });
  });

  it('refuses a TLS client below TLS 1.2, even where Node was told to allow older versions', async () => {
    // Node's default minimum is already TLS 1.2; lowered (as `--tls-min-v1.0` does), only the
    // listener's own minVersion refuses TLS 1.1 with a protocol_version alert.
    const nodeDefault = tls.DEFAULT_MIN_VERSION;
    tls.DEFAULT_MIN_VERSION = 'TLSv1';
    let tlsUrl: string;
    try {
      ({ tlsUrl } = await startHost());
    } finally {
      tls.DEFAULT_MIN_VERSION = nodeDefault;
    }
    const tls11 = { ca: suite.pki.ca, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' };
    const err = await refusal(tlsUrl, tls11 as Parameters<typeof connectClient>[1]);
    expect((err as Error).message).toMatch(/alert protocol version/);
  });

  it('binds plain MQTT to tcpHost only while TLS listens on host', async () => {
    const { address } = await startHost({ host: '0.0.0.0', tcpHost: '127.0.0.1' });
    // 127.0.0.2 is a loopback address too, but not 127.0.0.1: only a listener on every interface answers it.
    expect(await tcpReachable('127.0.0.2', address.port)).toBe(false);
    expect(await tcpReachable('127.0.0.2', address.tlsPort ?? 0)).toBe(true);
    await client(address.url);
  });

  it('without tcpHost, plain MQTT listens on host like before', async () => {
    const { address } = await startHost({ host: '0.0.0.0' });
    expect(address.tcpHost).toBe('0.0.0.0');
    expect(await tcpReachable('127.0.0.2', address.port)).toBe(true);
  });

  it('reloadTls serves a renewed certificate to new connections; a bad pair keeps the current one', async () => {
    const { host, address, tlsUrl } = await startHost();
    const before = await client(tlsUrl, { ca: suite.pki.ca });
    expect(await refusal(tlsUrl, { ca: suite.other.ca })).toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });

    // A key that is not the certificate's: refused, nothing changes.
    expect(() => host.reloadTls(suite.other.cert, suite.pki.key)).toThrow(/key values mismatch/);
    expect(() => host.reloadTls('not a certificate', suite.other.key)).toThrow();
    await client(tlsUrl, { ca: suite.pki.ca });

    host.reloadTls(suite.other.cert, suite.other.key);
    await client(tlsUrl, { ca: suite.other.ca });
    expect(await refusal(tlsUrl, { ca: suite.pki.ca })).toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    // The connection made before the reload is still served.
    await before.subscribeAsync('still/here');

    // The renewed certificate and the port survive a restart.
    await host.stop();
    const again = await host.start();
    expect(again.tlsPort).toBe(address.tlsPort);
    await client(tlsUrl, { ca: suite.other.ca });
  });

  it('stop() drops a connection still in its TLS handshake', async () => {
    const { host, address } = await startHost();
    const raw = net.connect({ host: '127.0.0.1', port: address.tlsPort ?? 0 });
    await new Promise<void>((resolve) => raw.once('connect', () => resolve()));
    const closed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
    raw.on('error', () => undefined);
    // Without destroying it, server.close() would wait out the 120 s handshake timeout.
    await host.stop();
    await closed;
  });

  it('reloadTls on a host without TLS is an error', () => {
    const host = createBrokerHost({ port: 0 });
    expect(() => host.reloadTls(suite.pki.cert, suite.pki.key)).toThrow(/no TLS listener/);
  });
});

describe('broker host: TLS with --auth-file style authentication', () => {
  let dir: string;
  let auth: BrokerAuth;
  const sources: (string | undefined)[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dameso-tls-auth-'));
    const file = path.join(dir, 'broker.users');
    await setCredential(file, 'n1', 'n1-secret-pw', CHEAP);
    const real = await createFileAuth({ file });
    // The real file auth, observed: which peer address the host hands it (the scrypt gate's key).
    auth = {
      authenticate: (clientId, username, password, source) => {
        sources.push(source);
        return real.authenticate(clientId, username, password, source);
      },
      reload: () => real.reload(),
      size: () => real.size(),
      has: (node) => real.has(node),
    };
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the right password connects over TLS, a wrong one gets CONNACK 5; the gate sees the peer address', async () => {
    const { host, tlsUrl } = await startHost({ host: '127.0.0.1', auth });
    await client(tlsUrl, { ca: suite.pki.ca, clientId: 'dameso.n1', username: 'n1', password: 'n1-secret-pw' });
    expect(
      await refusal(tlsUrl, { ca: suite.pki.ca, clientId: 'dameso.n1', username: 'n1', password: 'wrong-password' }),
    ).toMatchObject({ code: 5 });
    expect(host.stats().authRefused.bad_password).toBe(1);
    expect(sources).toEqual(['127.0.0.1', '127.0.0.1']);
  });
});

describe('dameso nodes over mqtts://', () => {
  const pool = new NodePool();
  afterEach(async () => {
    await pool.cleanup();
  });

  it('two nodes trusting the CA: an intent round trip answers YES', async () => {
    const { tlsUrl } = await startHost({ host: '127.0.0.1' });
    await pool.start(tlsUrl, 'resp', {
      roles: ['bt'],
      brokerCa: suite.pki.ca,
      handlers: [fixedHandler('want_chunk', 'bt', YES('here'))],
    });
    const req = await pool.start(tlsUrl, 'req', { brokerCa: suite.pki.ca });
    expect(req.roster.get('resp')?.online).toBe(true);
    const outcome = await req.declare('want_chunk', { subject: 'a'.repeat(64), deadlineMs: 5_000 });
    expect(outcome.yes.map((r) => r.envelope.from)).toEqual(['resp']);
    expect(req.brokerUrl).toBe(tlsUrl);
  });

  it('a node without the CA fails to start with a typed config error, not a timeout', async () => {
    const { tlsUrl } = await startHost({ host: '127.0.0.1' });
    // The start timeout is far longer than the test's own: the failed verification ends the wait.
    await expect(pool.start(tlsUrl, 'req', { startTimeoutMs: 600_000 })).rejects.toSatisfy(
      (err) =>
        err instanceof BrokerCertificateError &&
        err.code === 'DAMESO_BAD_CONFIG' &&
        err.tlsCode === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    );
  });
});

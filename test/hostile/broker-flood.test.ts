/**
 * Idle and half-sent connections cannot starve `dameso broker` (a real broker process, real sockets
 * from several 127.0.0.x addresses, real dameso nodes). Short timeouts through the flags.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient } from '../helpers/broker-clients.js';
import {
  type BrokerChild,
  connectFrom,
  connectPacket,
  halfPacket,
  rssBytes,
  SocketFlood,
  startBrokerChild,
  until,
} from '../helpers/hostile.js';
import { fixedHandler, NodePool, YES } from '../helpers/node-fixtures.js';
import { makeTestPki, removePki } from '../helpers/tls.js';

const MiB = 1024 * 1024;
let broker: BrokerChild | undefined;
const floods: SocketFlood[] = [];
const pool = new NodePool();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await pool.cleanup();
  for (const c of cleanups.splice(0)) await c();
  for (const f of floods.splice(0)) f.destroy();
  broker?.kill();
  broker = undefined;
});

function flood(): SocketFlood {
  const f = new SocketFlood();
  floods.push(f);
  return f;
}

/** A responder and a requester from 127.0.0.1: the requester's want_chunk is answered YES. */
async function legitimateIntent(port: number): Promise<void> {
  const url = `mqtt://127.0.0.1:${port}`;
  await pool.start(url, 'bt-1', { roles: ['bt'], handlers: [fixedHandler('want_chunk', 'bt', YES('here'))] });
  const requester = await pool.start(url, 'req-1', {});
  const outcome = await requester.declare('want_chunk', { subject: 'c1', deadlineMs: 5_000 });
  expect(outcome.yes.map((r) => r.envelope.from)).toEqual(['bt-1']);
}

const refusalWarnings = (b: BrokerChild) =>
  b.logs.filter((l) => l.msg === 'refused connection at accept: connection limit reached' && l.level === 40);

describe('dameso broker under a flood of idle sockets', () => {
  it('2,000 idle sockets from 20 addresses: each address holds its share, a node from another one connects and answers', async () => {
    broker = await startBrokerChild([
      '--max-connections',
      '500',
      '--max-connections-per-ip',
      '20',
      '--connect-timeout-ms',
      '60000',
    ]);
    const attack = flood();
    for (let a = 2; a < 22; a++) await attack.open(broker.port, `127.0.0.${a}`, 100);
    // 20 addresses x 20 admitted = 400 under the total of 500; the other 1,600 closed at accept.
    await until(() => attack.closed === 1_600, 20_000, '1,600 sockets closed by the broker');
    expect(attack.stillOpen).toBe(400);

    await legitimateIntent(broker.port);

    // The total limit: 10 more addresses would hold 200, only 100 - 2 (the two nodes) are left.
    const more = flood();
    for (let a = 22; a < 32; a++) await more.open(broker.port, `127.0.0.${a}`, 20);
    await until(() => more.closed === 102, 20_000, '102 sockets over the total closed');
    expect(attack.stillOpen).toBe(400);

    await pool.cleanup();
    const refusedFrom = new Set([...attack.closedFrom, ...more.closedFrom]); // before stop() closes the rest
    const stats = await broker.stop();
    expect(stats.refused).toEqual({ max_connections_per_ip: 1_600, max_connections: 102, cooling_down: 0 });
    // Logged at warn once per address, whatever the number of refusals.
    const warned = refusalWarnings(broker).map((l) => l.remote);
    expect(warned.length).toBe(new Set(warned).size);
    expect(new Set(warned)).toEqual(refusedFrom);
    expect(warned.length).toBeGreaterThanOrEqual(21);
  });

  it('the limits hold across listeners: TCP, WebSocket and TLS sockets of one address share its count', async () => {
    const pki = await makeTestPki();
    cleanups.push(() => removePki(pki));
    broker = await startBrokerChild([
      '--ws-port',
      '0',
      '--tls-port',
      '0',
      '--tls-cert',
      pki.files.cert,
      '--tls-key',
      pki.files.key,
      '--max-connections-per-ip',
      '3',
    ]);
    const { port, wsPort, tlsPort } = broker.listening as { port: number; wsPort: number; tlsPort: number };
    const attack = flood();
    await attack.open(port, '127.0.0.9', 2, 2);
    await attack.open(wsPort, '127.0.0.9', 2, 1);
    await attack.open(tlsPort, '127.0.0.9', 2, 1);
    await until(() => attack.closed === 3, 10_000, 'three sockets over the per-address limit closed');
    const stats = await broker.stop();
    expect(stats.refused).toMatchObject({ max_connections_per_ip: 3 });
    // A TLS socket closed at accept is a refusal, not a failed handshake.
    expect(stats.tlsHandshakeFailures).toBe(0);
  });
});

describe('dameso broker: WebSocket sockets that never upgrade', () => {
  it('are closed at the connect timeout, while an upgraded MQTT-over-WebSocket client stays', async () => {
    broker = await startBrokerChild(['--ws-port', '0', '--connect-timeout-ms', '1000']);
    const wsPort = broker.listening.wsPort as number;
    const client = await connectClient(`ws://127.0.0.1:${wsPort}`, { keepalive: 1 });
    const idle = flood();
    await idle.open(wsPort, '127.0.0.5', 10, 10);
    await until(() => idle.closed === 10, 10_000, 'the 10 sockets that sent no upgrade closed');
    expect(client.connected).toBe(true);
    await client.endAsync();
    await broker.stop();
  });
});

describe('dameso broker under half-sent packets', () => {
  it('half-sent CONNECTs: a 1 MiB one is closed at its header, a 16 KB one at the connect timeout; RSS stays near its baseline', async () => {
    broker = await startBrokerChild(['--connect-timeout-ms', '1500']);
    // Baseline: the broker after a few whole connections came and went.
    const warm = flood();
    await warm.open(broker.port, '127.0.0.1', 10, 10, connectPacket('warm', 10));
    warm.destroy();
    const baseline = rssBytes(broker.pid);

    const huge = flood();
    const small = flood();
    for (let a = 2; a < 17; a++) {
      await huge.open(broker.port, `127.0.0.${a}`, 10, 10, halfPacket(0x10, MiB, MiB - 1));
      await small.open(broker.port, `127.0.0.${a + 20}`, 10, 10, halfPacket(0x10, 16_000, 15_000));
    }
    await until(() => huge.closed === 150, 20_000, 'the 150 oversize CONNECTs closed');
    const peak = rssBytes(broker.pid);
    await until(() => small.closed === 150, 20_000, 'the 150 half-sent CONNECTs closed at the timeout');
    // 150 MiB were sent at the oversize CONNECTs: a quarter of it would mean they were buffered.
    expect(peak - baseline).toBeLessThan((150 * MiB) / 4);

    const stats = await broker.stop();
    expect(stats.packetsTooLarge).toBe(150);
    expect((stats.timedOut as { connect: number }).connect).toBe(150);
  });

  it('incomplete packets of every connection together stay under --max-pending-mib: the ones crossing it are closed', async () => {
    broker = await startBrokerChild(['--max-pending-mib', '2', '--packet-timeout-ms', '60000']);
    const held = flood();
    for (let i = 0; i < 12; i++) {
      const from = `127.0.0.${2 + i}`;
      const s = await connectFrom(broker.port, from);
      held.add(s, from);
      s.write(connectPacket(`held-${i}`, 0));
      s.write(halfPacket(0x30, 500_000, 300_000));
    }
    // 12 x 300 KB against 2 MiB: at most 6 fit (1.8 MB); which ones cross it depends on how the
    // streams interleave, so at least 6 are closed, and not all.
    await until(() => held.closed >= 6, 15_000, 'at least 6 connections over the bound closed');
    const stats = await broker.stop();
    expect(stats.pendingOverBudget).toBeGreaterThanOrEqual(6);
    expect(stats.pendingOverBudget).toBeLessThan(12);
  });

  it('half-sent PUBLISHes after a CONNECT with keepalive 0 are closed by the packet timeout; a silent keepalive-0 client by the idle limit, Will published', async () => {
    broker = await startBrokerChild(['--packet-timeout-ms', '1000', '--max-idle-s', '2']);
    const port = broker.port;
    const wills: string[] = [];
    const observer = await connectClient(`mqtt://127.0.0.1:${port}`, { keepalive: 1 });
    await observer.subscribeAsync('test/will/#');
    observer.on('message', (topic) => wills.push(topic));

    const publishers = flood();
    const silent = flood();
    for (let i = 0; i < 50; i++) {
      const from = `127.0.0.${2 + (i % 10)}`;
      const s = await connectFrom(port, from);
      publishers.add(s, from);
      s.write(connectPacket(`half-${i}`, 0));
      s.write(halfPacket(0x30, 500_000, 100_000));
    }
    for (let i = 0; i < 5; i++) {
      const s = await connectFrom(port, '127.0.0.20');
      silent.add(s, '127.0.0.20');
      s.write(connectPacket(`silent-${i}`, 0, { topic: `test/will/silent-${i}`, payload: Buffer.from('gone') }));
    }
    await until(
      () => publishers.closed === 50,
      15_000,
      `the 50 half-sent PUBLISHes closed (${publishers.closed}) ${JSON.stringify(broker?.logs.slice(0, 5))}`,
    );
    await until(() => silent.closed === 5, 15_000, 'the 5 silent keepalive-0 clients closed');
    await until(() => wills.length === 5, 5_000, 'their 5 Wills');
    // A client that keeps its keepalive (1 s, pinging) is not idle: still connected.
    expect(observer.connected).toBe(true);
    await observer.endAsync();
    await pool.cleanup();

    const stats = await broker.stop();
    expect(stats.timedOut).toEqual({ connect: 0, packet: 50, idle: 5 });
  });
});

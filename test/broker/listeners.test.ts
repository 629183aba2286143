import { createRequire } from 'node:module';
import net from 'node:net';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { createBrokerHost } from '../../broker/index.js';
import { encode } from '../../src/protocol/index.js';
import { collect, connectClient, endAll, waitFor } from '../helpers/broker-clients.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { presence } from '../protocol/fixtures.js';

const memoryPersistence = createRequire(import.meta.url)('aedes-persistence') as () => unknown;

let handle: BrokerHandle | undefined;
let clients: MqttClient[] = [];
afterEach(async () => {
  await endAll(...clients);
  clients = [];
  await handle?.stop();
  handle = undefined;
});

async function client(url: string, extra = {}): Promise<MqttClient> {
  const c = await connectClient(url, extra);
  clients.push(c);
  return c;
}

describe('listeners', () => {
  it('serves MQTT over WebSocket (mqtt.js ws://) on the same broker as TCP', async () => {
    handle = await startAedes({ ws: true });
    expect(handle.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const wsClient = await client(handle.wsUrl!);
    const got = await collect(wsClient, 'dameso/v1/presence/+');
    const tcp = await client(handle.url, { clientId: 'dameso.node-1' });
    await tcp.publishAsync('dameso/v1/presence/node-1', encode(presence('node-1')), { qos: 1, retain: true });
    await waitFor(wsClient, () => got.length === 1);
    await wsClient.publishAsync('dameso/v1/presence/node-1', Buffer.from('junk over ws'), { qos: 1 });
    await wsClient.publishAsync('x', Buffer.from('x'), { qos: 1 });
    // 'j' heads a 10-byte text string: the 11th byte trails it.
    expect(handle.stats!().dropped.cbor_trailing).toBe(1);
  });

  it('counts open connections, raw sockets included, and forgets closed ones', async () => {
    handle = await startAedes();
    const host = handle;
    const socket = net.connect(host.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    await waitUntil(() => host.stats!().connections === 1);
    socket.destroy();
    await waitUntil(() => host.stats!().connections === 0);
  });

  it('closes a connection whose packet announces more than maxPacketBytes, before reading its body', async () => {
    handle = await startAedes({ maxPacketBytes: 10_000 });
    const small = await client(handle.url);
    await small.publishAsync('app/blob', Buffer.alloc(9_000), { qos: 1 });
    const big = await client(handle.url);
    const closed = new Promise<void>((resolve) => big.once('close', () => resolve()));
    big.publish('app/blob', Buffer.alloc(20_000), { qos: 0 });
    await closed;
    expect(handle.stats!().packetsTooLarge).toBe(1);
    // A raw header announcing 200 MB is refused as soon as the 5 header bytes arrive.
    const raw = net.connect(handle.port, '127.0.0.1');
    await new Promise((resolve) => raw.once('connect', resolve));
    const rawClosed = new Promise((resolve) => raw.once('close', resolve));
    raw.write(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]));
    await rawClosed;
    expect(handle.stats!().packetsTooLarge).toBe(2);
    expect(small.connected).toBe(true);
  });

  it('enforces the packet limit on WebSocket too', async () => {
    handle = await startAedes({ ws: true, maxPacketBytes: 10_000 });
    const big = await client(handle.wsUrl!);
    const closed = new Promise<void>((resolve) => big.once('close', () => resolve()));
    big.publish('app/blob', Buffer.alloc(50_000), { qos: 0 });
    await closed;
    expect(big.connected).toBe(false);
  });
});

describe('stop / restart', () => {
  it('restarts on the same port; clients reconnect; the default in-memory persistence forgets retained records', async () => {
    handle = await startAedes({ ws: true });
    const { port, url, wsUrl } = handle;
    const node = await client(url, { clientId: 'dameso.node-1', reconnectPeriod: 20 });
    await node.publishAsync('dameso/v1/presence/node-1', encode(presence('node-1')), { qos: 1, retain: true });
    const reconnected = new Promise<void>((resolve) => node.once('connect', () => resolve()));
    await handle.restart();
    expect(handle.port).toBe(port);
    expect(handle.url).toBe(url);
    expect(handle.wsUrl).toBe(wsUrl);
    await reconnected;
    // A node's presence is taken from its own client id only: the marker node publishes its own.
    const late = await client(url, { clientId: 'dameso.marker' });
    const roster = await collect(late, 'dameso/v1/presence/+');
    await late.publishAsync('dameso/v1/presence/marker', encode(presence('marker')), { qos: 1, retain: true });
    await waitFor(late, () => roster.some((m) => m.topic.endsWith('/marker')));
    // The in-memory persistence is made anew at each start(): node-1's record did not survive.
    expect(roster.map((m) => m.topic)).toEqual(['dameso/v1/presence/marker']);
    await client(wsUrl!);
  });

  it('keeps retained records over a restart when a persistence is injected', async () => {
    handle = await startAedes({ persistence: memoryPersistence() });
    const node = await client(handle.url, { clientId: 'dameso.node-1' });
    await node.publishAsync('dameso/v1/presence/node-1', encode(presence('node-1')), { qos: 1, retain: true });
    await handle.restart();
    const late = await client(handle.url);
    const roster = await collect(late, 'dameso/v1/presence/+');
    await waitFor(late, () => roster.length === 1);
    expect(roster[0]!.payload).toEqual(encode(presence('node-1')));
  });

  it('stop() releases the port and start() twice is refused', async () => {
    const host = createBrokerHost({ port: 0 });
    const { port } = await host.start();
    await expect(host.start()).rejects.toThrow(/already started/);
    await host.stop();
    await host.stop();
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(port, '127.0.0.1', resolve));
    await new Promise((resolve) => probe.close(resolve));
  });

  it('reports a taken port with DAMESO_BROKER_LISTEN', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as net.AddressInfo;
    const host = createBrokerHost({ port });
    await expect(host.start()).rejects.toMatchObject({ code: 'DAMESO_BROKER_LISTEN' });
    expect(host.broker).toBeUndefined();
    await new Promise((resolve) => blocker.close(resolve));
  });
});

async function waitUntil(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((resolve) => setImmediate(resolve));
}

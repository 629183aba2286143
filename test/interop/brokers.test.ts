import { afterEach, describe, expect, it } from 'vitest';
import { encode } from '../../src/protocol/index.js';
import { collect, connectClient, endAll, waitFor } from '../helpers/broker-clients.js';
import { measureRetainedRace } from '../helpers/broker-race.js';
import { type BrokerHandle, brokerFactories, startMosquitto } from '../helpers/brokers.js';
import { presence } from '../protocol/fixtures.js';

let handle: BrokerHandle | undefined;
afterEach(async () => {
  await handle?.stop();
  handle = undefined;
});

describe('startMosquitto (Debian mosquitto started by the test)', () => {
  it('throws a clear error when mosquitto is absent', async () => {
    await expect(startMosquitto({ bin: '/nonexistent/mosquitto' })).rejects.toThrow(/apt-get install -y mosquitto/);
  });

  it('serves TCP and WebSocket on free ports and restarts on the same port', async () => {
    handle = await startMosquitto({ ws: true });
    expect(handle.kind).toBe('mosquitto');
    const sub = await connectClient(handle.wsUrl!);
    const got = await collect(sub, 'dameso/v1/presence/+');
    const pub = await connectClient(handle.url, { clientId: 'dameso.node-1', reconnectPeriod: 20 });
    await pub.publishAsync('dameso/v1/presence/node-1', encode(presence('node-1')), { qos: 1, retain: true });
    await waitFor(sub, () => got.length === 1);
    await endAll(sub);
    const { port } = handle;
    const reconnected = new Promise<void>((resolve) => pub.once('connect', () => resolve()));
    await handle.restart();
    expect(handle.port).toBe(port);
    await reconnected;
    // persistence false: retained records do not survive a Mosquitto restart.
    const late = await connectClient(handle.url);
    const roster = await collect(late, 'dameso/v1/presence/+');
    await late.publishAsync('dameso/v1/presence/marker', encode(presence('marker')), { qos: 1, retain: true });
    await waitFor(late, () => roster.length >= 1);
    expect(roster.map((m) => m.topic)).toEqual(['dameso/v1/presence/marker']);
    await endAll(pub, late);
  });

  it('delivers all 500 retained records before the roster barrier, and before a QoS 1 marker', async () => {
    handle = await startMosquitto();
    const barrier = await measureRetainedRace(handle.url, 500, 'sync');
    expect(barrier.afterMarker).toBe(0);
    const marker1 = await measureRetainedRace(handle.url, 500, 'marker1');
    expect(marker1.afterMarker).toBe(0);
  });
});

describe.each(brokerFactories())('$name: the handle every suite relies on', ({ start }) => {
  it('pub/sub over TCP and WS, retained presence, restart on the same port', async () => {
    handle = await start({ ws: true });
    const sub = await connectClient(handle.wsUrl!);
    const got = await collect(sub, 'dameso/v1/presence/+');
    const pub = await connectClient(handle.url, { clientId: 'dameso.node-1', reconnectPeriod: 20 });
    await pub.publishAsync('dameso/v1/presence/node-1', encode(presence('node-1')), { qos: 1, retain: true });
    await waitFor(sub, () => got.length === 1);
    const { port } = handle;
    const reconnected = new Promise<void>((resolve) => pub.once('connect', () => resolve()));
    await handle.restart();
    await reconnected;
    expect(handle.port).toBe(port);
    await endAll(sub, pub);
  });
});

import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { applyPeerEntry, type RosterState } from '../../src/presence/index.js';
import { encode } from '../../src/protocol/index.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { NodePool, until } from '../helpers/node-fixtures.js';

const R = 'dameso/v1';
let broker: BrokerHandle;
let pool: NodePool;
let raw: mqtt.MqttClient;

const presence = (node: string, session: number, state: 'online' | 'offline', roles = ['bt'], epoch?: number) =>
  raw.publishAsync(
    `${R}/presence/${node}`,
    encode({ v: 1, node, session, ...(epoch !== undefined ? { epoch } : {}), state, roles, t: 1 }),
    { qos: 1, retain: true },
  );

beforeEach(async () => {
  broker = await startAedes({ checkEnvelopes: false }); // records from a raw client, in any node's name
  pool = new NodePool();
  raw = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
});
afterEach(async () => {
  await raw.endAsync();
  await pool.cleanup();
  await broker.stop();
});

test('the view folds peer entries (pure, bounded roles)', () => {
  let s: RosterState = {};
  s = applyPeerEntry(s, { event: 'peer_added', node: 'x', session: 2, roles: ['bt'] });
  s = applyPeerEntry(s, { event: 'decision', node: 'x', session: 9 });
  s = applyPeerEntry(s, { event: 'peer_removed', node: 'x', session: 2 });
  expect(s).toEqual({ x: { session: 2, epoch: 0, online: false, roles: ['bt'] } });
});

describe('live roster', () => {
  test('Sparkplug bdSeq rule: older offline records are stale; same-session offline removes; cleared removes', async () => {
    await presence('p', 5, 'online');
    await presence('q', 1, 'online', ['mapper']);
    const n = await pool.start(broker.url, 'n', { announce: false });
    expect(n.roster.get('p')).toMatchObject({ online: true, session: 5, roles: ['bt'] });
    await presence('p', 4, 'offline'); // a late Will of an older connection
    await until(() => n.roster.stats().stale === 1);
    expect(n.roster.get('p')?.online).toBe(true);
    await presence('p', 3, 'online'); // an older online record while 5 is online: stale too
    await until(() => n.roster.stats().stale === 2);
    expect(n.roster.get('p')?.session).toBe(5);
    await presence('p', 5, 'offline');
    await until(() => n.roster.get('p')?.online === false);
    await raw.publishAsync(`${R}/presence/q`, Buffer.alloc(0), { qos: 1, retain: true });
    await until(() => n.roster.get('q')?.online === false);
    await presence('p', 6, 'online');
    await until(() => n.roster.get('p')?.online === true);

    await n.series.flush();
    const peers: Array<[string, string, number]> = [];
    for await (const e of n.series.read({ event: ['peer_added', 'peer_removed'] })) {
      peers.push([e.event, e.node as string, e.session as number]);
    }
    expect(peers).toEqual([
      ['peer_added', 'p', 5],
      ['peer_added', 'q', 1],
      ['peer_removed', 'p', 5],
      ['peer_removed', 'q', 1],
      ['peer_added', 'p', 6],
    ]);
  });

  test('sessions survive a restart (the stale rule holds across it); nodes gone meanwhile are removed', async () => {
    const dataDir = await pool.dir();
    await presence('p', 7, 'online');
    await presence('r', 2, 'online');
    const n = await pool.start(broker.url, 'n', { announce: false, dataDir });
    expect(
      n.roster
        .online()
        .map((p) => p.node)
        .sort(),
    ).toEqual(['p', 'r']);
    await n.stop();
    // While n is down: r's retained record disappears, and a stale Will of p's session 6 is the record.
    await raw.publishAsync(`${R}/presence/r`, Buffer.alloc(0), { qos: 1, retain: true });
    await presence('p', 6, 'offline');
    const again = await pool.start(broker.url, 'n', { announce: false, dataDir });
    expect(again.roster.get('p')).toMatchObject({ online: true, session: 7 }); // remembered, stale record ignored
    expect(again.roster.get('r')?.online).toBe(false); // no record confirmed it: absent
  });

  test('incarnations: another epoch online replaces; its offline record live is ignored, stored at subscription taken', async () => {
    const dataDir = await pool.dir();
    await presence('p', 5, 'online', ['bt'], 1);
    const n = await pool.start(broker.url, 'n', { announce: false, dataDir });
    expect(n.roster.get('p')).toMatchObject({ online: true, session: 5, epoch: 1 });
    await presence('p', 1, 'online', ['bt'], 2); // a replaced board: session 1 of a new epoch
    await until(() => n.roster.get('p')?.epoch === 2);
    expect(n.roster.get('p')).toMatchObject({ online: true, session: 1 });
    await presence('p', 5, 'offline', ['bt'], 1); // the old board's late Will
    await until(() => n.roster.stats().stale === 1);
    expect(n.roster.get('p')).toMatchObject({ online: true, session: 1, epoch: 2 });
    await n.stop();
    // While n is down the stored record becomes an offline one of another epoch: at subscription it
    // is the broker's state, taken as it is.
    await presence('p', 9, 'offline', ['bt'], 3);
    const again = await pool.start(broker.url, 'n', { announce: false, dataDir });
    expect(again.roster.get('p')).toMatchObject({ online: false, session: 9, epoch: 3 });
  });
});

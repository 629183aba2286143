/**
 * Store-and-forward: retained changes made while the broker is away (have records, withdrawals) are
 * kept and sent in order at the next connect; superseded ones collapse; the bound drops the oldest
 * and counts it. A real Aedes host is stopped and started again on the same port.
 */
import type { AedesPublishPacket } from 'aedes';
import mqtt from 'mqtt';
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { BrokerHost } from '../../broker/index.js';
import { createBrokerHost } from '../../broker/index.js';
import { clientIdForNode, decode } from '../../src/protocol/index.js';
import { Outbox } from '../../src/transport/outbox.js';
import { logTap } from '../helpers/log-tap.js';
import { NodePool, until } from '../helpers/node-fixtures.js';

let host: BrokerHost;
let url: string;
let pool: NodePool;

beforeEach(async () => {
  host = createBrokerHost({ port: 0, host: '127.0.0.1' });
  url = (await host.start()).url;
  pool = new NodePool();
});
afterEach(async () => {
  await pool.cleanup();
  await host.stop();
});

const chunk = (c: string) => c.repeat(64);
const have = (node: string, c: string) => ({ v: 1, node, chunk: chunk(c), size: 1, t: 1 });

/** Stops the broker, runs `whileAway`, starts it again on the same port; returns what `node` publishes on have topics after. */
async function outage(node: string, whileAway: () => Promise<void>): Promise<Array<{ chunk: string; empty: boolean }>> {
  await host.stop();
  await whileAway();
  await host.start();
  const seen: Array<{ chunk: string; empty: boolean }> = [];
  // Registered before any I/O turn: the node's reconnect cannot be handled before it.
  host.broker?.on('publish', (packet: AedesPublishPacket, client) => {
    if (client?.id !== clientIdForNode(node) || !packet.topic.includes('/have/')) return;
    seen.push({ chunk: packet.topic.split('/')[3]!.slice(0, 1), empty: packet.payload.length === 0 });
  });
  return seen;
}

test('have records and withdrawals made while the broker is away arrive in order after reconnect; superseded ones collapse', async () => {
  const a = await pool.start(url, 'a', { roles: ['bt'] });
  const t = a.transport;
  await t.publish(t.topics.have(chunk('a'), 'a'), have('a', 'a'), { qos: 1, retain: true });

  const seen = await outage('a', async () => {
    await until(() => !t.connected, 10_000, 'the transport sees the broker gone');
    const kept = [
      t.publish(t.topics.have(chunk('b'), 'a'), have('a', 'b'), { qos: 1, retain: true }),
      t.publish(t.topics.have(chunk('c'), 'a'), have('a', 'c'), { qos: 1, retain: true }),
      t.publish(t.topics.have(chunk('b'), 'a'), null, { qos: 1, retain: true }), // supersedes b's record
      t.publish(t.topics.have(chunk('d'), 'a'), have('a', 'd'), { qos: 1, retain: true }),
    ];
    await Promise.all(kept); // resolved at once: kept, not failed
    expect(t.stats()).toMatchObject({ kept: 3, keptDropped: 0 });
  });
  await until(() => seen.length >= 4, 15_000, 'the records kept while away');
  // The unchanged record first (a restarted broker gets it back), then the kept changes, oldest first.
  expect(seen).toEqual([
    { chunk: 'a', empty: false },
    { chunk: 'c', empty: false },
    { chunk: 'b', empty: true },
    { chunk: 'd', empty: false },
  ]);
  expect(t.stats()).toMatchObject({ kept: 0, forwarded: 3, keptDropped: 0 });
  // What the broker stores: the kept withdrawal removed b, the others are retained.
  const fresh = await mqtt.connectAsync(url, { protocolVersion: 4 });
  const stored: string[] = [];
  fresh.on('message', (_topic, payload, packet) => {
    if (packet.retain) stored.push((decode(payload) as { chunk: string }).chunk[0]!);
  });
  await fresh.subscribeAsync(`${t.topics.root}/have/#`, { qos: 1 });
  await until(() => stored.length >= 3, 10_000, 'the retained have records');
  await fresh.endAsync();
  expect(stored.sort()).toEqual(['a', 'c', 'd']);
});

test('past the bound the oldest kept withdrawal is dropped, counted and logged once; held records still go out', async () => {
  const tap = logTap('info');
  const a = await pool.start(url, 'a', { roles: ['bt'], outboxMaxRecords: 3, log: tap.log });
  const t = a.transport;
  const all = ['1', '2', '3', '4', '5'];
  // Acknowledged in order, after the roster barrier's own retained publishes: none is in flight at the stop.
  for (const c of all) await t.publish(t.topics.have(chunk(c), 'a'), have('a', c), { qos: 1, retain: true });
  const seen = await outage('a', async () => {
    await until(() => !t.connected, 10_000, 'the transport sees the broker gone');
    await t.publish(t.topics.have(chunk('6'), 'a'), have('a', '6'), { qos: 1, retain: true });
    for (const c of all) await t.publish(t.topics.have(chunk(c), 'a'), null, { qos: 1, retain: true });
    expect(t.stats()).toMatchObject({ kept: 3, keptDropped: 3 });
  });
  await until(() => seen.length >= 4, 15_000, 'the records kept while away');
  // 6 lost its place in the outbox but this node still holds it: it goes out with the unchanged
  // records. The withdrawals of 1 and 2 are gone: the broker keeps their records.
  expect(seen).toEqual([
    { chunk: '6', empty: false },
    { chunk: '3', empty: true },
    { chunk: '4', empty: true },
    { chunk: '5', empty: true },
  ]);
  const drops = tap.named('transport: outbox full while the broker is away; dropping the oldest kept record');
  expect(drops).toHaveLength(1);
  expect(drops[0]).toMatchObject({ maxRecords: 3, dropped: 1 });
  const [sent] = await tap.until('transport: sent the records kept while away');
  expect(sent).toMatchObject({ forwarded: 3, droppedTotal: 3 });
});

test('Outbox: newest per topic, in the order of the newest changes, bounded oldest-first', () => {
  const o = new Outbox(2);
  const r = (topic: string, p: string) => ({ topic, payload: Buffer.from(p), qos: 1 as const });
  expect(o.put(r('x', '1'))).toBeUndefined();
  expect(o.put(r('y', '1'))).toBeUndefined();
  expect(o.put(r('x', '2'))).toBeUndefined(); // x moves after y
  expect(o.put(r('z', '1'))?.topic).toBe('y');
  expect(o.dropped).toBe(1);
  expect(o.take().map((k) => `${k.topic}${k.payload.toString()}`)).toEqual(['x2', 'z1']);
  expect(o.size).toBe(0);
});

import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { decode, encode } from '../../src/protocol/index.js';
import type { Inbound } from '../../src/transport/index.js';
import { epochView, nextSession, topicMatches } from '../../src/transport/index.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { NodePool, until } from '../helpers/node-fixtures.js';

const R = 'dameso/v1';
let broker: BrokerHandle;
let pool: NodePool;

beforeEach(async () => {
  broker = await startAedes();
  pool = new NodePool();
});
afterEach(async () => {
  await pool.cleanup();
  await broker.stop();
});

test('MQTT filter matching (MQTT-4.7.1)', () => {
  const m = (f: string, t: string) => topicMatches(f.split('/'), t);
  expect(m('a/+/c', 'a/b/c')).toBe(true);
  expect(m('a/+', 'a/b/c')).toBe(false);
  expect(m('a/#', 'a/b/c')).toBe(true);
  expect(m('a/b', 'a/b/c')).toBe(false);
  expect(m('a/b/c', 'a/b')).toBe(false);
});

test('nextSession: the series epoch when it has one, else a drawn one; epochView keeps the newest', () => {
  const series = (session: number, epoch: number) => ({
    view: <S>(name: string) => (name === 'session' ? session : epoch) as S,
  });
  expect(nextSession(series(0, 0), () => 7)).toEqual({ session: 1, epoch: 7 });
  expect(nextSession(series(4, 9), () => 7)).toEqual({ session: 5, epoch: 9 });
  const entry = (fields: Record<string, unknown>) => ({ seq: 1, t: 0, event: 'session_started', ...fields });
  let state = epochView.initial();
  state = epochView.apply(state, entry({ session: 1 })); // written before epochs: none
  expect(state).toBe(0);
  state = epochView.apply(state, entry({ session: 2, epoch: 9 }));
  state = epochView.apply(state, entry({ session: 3, epoch: 'x' }));
  expect(state).toBe(9);
});

describe('session counter', () => {
  test('grows by one per (re)connect, is derived from the series and survives restarts', async () => {
    const dataDir = await pool.dir();
    const a = await pool.start(broker.url, 'a', { dataDir });
    expect(a.transport.session).toBe(1);
    await broker.restart();
    await until(() => a.transport.connected && a.transport.session === 2, 15_000, 'reconnect');
    await a.stop();
    const again = await pool.start(broker.url, 'a', { dataDir });
    expect(again.transport.session).toBe(3);
    const started: number[] = [];
    for await (const e of again.series.read({ event: 'session_started' })) started.push(e.session as number);
    expect(started).toEqual([1, 2, 3]);
  });

  test('the epoch is drawn once per series, kept across restarts, and a new series draws another', async () => {
    const dataDir = await pool.dir();
    const a = await pool.start(broker.url, 'a', { dataDir });
    const epoch = a.transport.epoch;
    expect(Number.isSafeInteger(epoch) && epoch > 0).toBe(true);
    await a.stop();
    const again = await pool.start(broker.url, 'a', { dataDir });
    expect([again.transport.session, again.transport.epoch]).toEqual([2, epoch]);
    const epochs: unknown[] = [];
    for await (const e of again.series.read({ event: 'session_started' })) epochs.push(e.epoch);
    expect(epochs).toEqual([epoch, epoch]);
    await again.stop();
    // A re-flashed card: an empty data folder, the same id (random epochs: equal with odds 2^-32).
    const fresh = await pool.start(broker.url, 'a');
    expect(fresh.transport.session).toBe(1);
    expect(fresh.transport.epoch).not.toBe(epoch);
  });

  test('the Will carries the CURRENT session after a reconnect', async () => {
    const a = await pool.start(broker.url, 'a', { roles: ['bt'] });
    await broker.restart();
    await until(() => a.transport.connected && a.transport.session === 2, 15_000, 'reconnect');
    const watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    const offline: Array<Record<string, unknown>> = [];
    watcher.on('message', (_t, p) => {
      const d = p.length > 0 ? (decode(p) as Record<string, unknown>) : {};
      if (d.state === 'offline') offline.push(d);
    });
    await watcher.subscribeAsync(`${R}/presence/a`, { qos: 1 });
    // An abnormal disconnect (no DISCONNECT): the broker publishes the Will (MQTT-3.1.2-8).
    (a.transport as unknown as { client: { stream: { destroy(): void } } }).client.stream.destroy();
    await until(() => offline.length > 0, 10_000, 'the Will');
    expect(offline[0]).toMatchObject({ node: 'a', session: 2, state: 'offline', roles: ['bt'] });
    await until(() => a.transport.connected && a.transport.session === 3, 15_000, 'reconnect again');
    await watcher.endAsync();
  });
});

describe('publish / subscribe', () => {
  test('retained have records: validated delivery, empty = withdrawal (null), republished after a broker restart', async () => {
    const a = await pool.start(broker.url, 'a', { roles: ['bt'] });
    const got: Inbound[] = [];
    const off = await a.transport.subscribe(a.transport.topics.haveFilter(), (m) => got.push(m));
    const chunk = 'b'.repeat(64);
    const topic = a.transport.topics.have(chunk, 'a');
    await a.transport.publish(topic, { v: 1, node: 'a', chunk, size: 10, t: 1 }, { qos: 1, retain: true });
    await until(() => got.length === 1);
    expect(got[0]?.message).toMatchObject({ type: 'have', envelope: { chunk, size: 10 } });

    await broker.restart(); // in-memory broker: retained records are gone…
    await until(() => a.transport.connected && a.transport.session === 2, 15_000, 'reconnect');
    const fresh = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    const seen: Buffer[] = [];
    fresh.on('message', (_t, p) => seen.push(p));
    await fresh.subscribeAsync(topic, { qos: 1 });
    await until(() => seen.length > 0, 10_000, '…and the owner published its record again');
    expect(decode(seen[0]!)).toMatchObject({ chunk, node: 'a' });

    await a.transport.publish(topic, null, { qos: 1, retain: true });
    await until(() => got.some((m) => m.message.envelope === null), 10_000, 'withdrawal');
    await off();
    await fresh.endAsync();
  });

  test('publish while disconnected rejects with a typed error', async () => {
    const a = await pool.start(broker.url, 'a');
    await broker.stop();
    await until(() => !a.transport.connected);
    await expect(a.transport.publish(`${R}/reply/x`, { v: 1 })).rejects.toMatchObject({ code: 'DAMESO_NOT_CONNECTED' });
  });

  test('one dispatcher: bad payloads are counted per reason and never reach handlers', async () => {
    const a = await pool.start(broker.url, 'a');
    const got: Inbound[] = [];
    await a.transport.subscribe(`${R}/reply/a`, (m) => got.push(m), { qos: 0 });
    const raw = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    // The dameso broker host drops most garbage itself; what reaches the node is still checked.
    await raw.publishAsync(`${R}/reply/a`, encode({ v: 1, id: 'x', from: 'b', session: 1, r: 'yes' }));
    await until(() => got.length === 1);
    expect(a.transport.stats().rejected).toEqual({});
    await raw.endAsync();
  });
});

test('a connection closed before SUBACK is no error: the filter is subscribed again on reconnect', async () => {
  const a = await pool.start(broker.url, 'a');
  const seen: string[] = [];
  const socket = (a.transport as unknown as { client: { stream: { destroy(): void } } }).client.stream;
  // SUBSCRIBE is written, then the socket dies before its SUBACK can arrive.
  const subscribed = a.transport.subscribe(a.transport.topics.presence('b'), (m: Inbound) => seen.push(m.topic), {
    qos: 1,
  });
  socket.destroy();
  await expect(subscribed).resolves.toBeTypeOf('function');
  await until(() => a.transport.connected && a.transport.session === 2, 15_000, 'reconnect');
  await pool.start(broker.url, 'b');
  await until(() => seen.length > 0, 15_000, "b's presence through the filter subscribed again");
  expect(seen[0]).toBe(`${R}/presence/b`);
});

import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { decode, encode } from '../../src/protocol/index.js';
import { collect, connectClient, endAll, type Received, waitFor } from '../helpers/broker-clients.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { CHUNK, have, intent, presence, reply } from '../protocol/fixtures.js';

let handle: BrokerHandle | undefined;
let clients: MqttClient[] = [];
afterEach(async () => {
  await endAll(...clients);
  clients = [];
  await handle?.stop();
  handle = undefined;
});

async function client(url: string, clientId?: string, extra = {}): Promise<MqttClient> {
  const c = await connectClient(url, { clientId, ...extra });
  clients.push(c);
  return c;
}

describe('broker host: envelope check', () => {
  it('passes valid envelopes of every family to subscribers', async () => {
    handle = await startAedes();
    const sub = await client(handle.url);
    const got = await collect(sub, 'dameso/v1/#');
    const pub = await client(handle.url, 'dameso.node-1');
    await pub.publishAsync('dameso/v1/presence/node-1', encode(presence('node-1')), { qos: 1, retain: true });
    await pub.publishAsync('dameso/v1/intent/want_chunk', encode(intent('node-1')), { qos: 0 });
    await pub.publishAsync('dameso/v1/reply/node-2', encode(reply('node-1')), { qos: 0 });
    await pub.publishAsync(`dameso/v1/have/${CHUNK}/node-1`, encode(have('node-1')), { qos: 1, retain: true });
    await waitFor(sub, () => got.length === 4, '4 messages');
    expect(got.map((m) => m.topic.split('/')[2])).toEqual(['presence', 'intent', 'reply', 'have']);
    expect(handle.stats?.()).toMatchObject({ checked: 4, passed: 4, droppedTotal: 0 });
  });
});

describe('broker host: garbage on every dameso topic is dropped and counted', () => {
  it('drops random bytes, wrong CBOR types, bad ids, huge payloads and mismatches; valid ones pass', async () => {
    handle = await startAedes();
    const sub = await client(handle.url);
    const got = await collect(sub, '#');
    const pub = await client(handle.url); // an mqtt.js client id: not bound to a node
    const garbage: [string, Uint8Array][] = [
      ['dameso/v1/presence/node-1', Buffer.from([0xff, 0x00, 0x13])],
      ['dameso/v1/intent/want_chunk', encode('a text, not a map')],
      ['dameso/v1/reply/node-1', encode([1, 2, 3])],
      ['dameso/v1/intent/want_chunk', encode({ ...intent(), deadline: 'soon' })],
      ['dameso/v1/presence/node-1', encode({ ...presence(), v: 2 })],
      ['dameso/v1/intent/want_chunk', encode(intent('no spaces allowed'))],
      ['dameso/v1/presence/node-1', encode(presence('node-9'))],
      ['dameso/v1/reply/node-1', encode(reply('node-2', { data: new Uint8Array(1_048_576) }))],
      ['dameso/v1/gossip/x', encode(presence())],
      ['dameso/v1/intent/want_chunk', new Uint8Array(0)],
    ];
    for (const [topic, payload] of garbage) await pub.publishAsync(topic, Buffer.from(payload), { qos: 1 });
    // Valid after the garbage, same connection (in-order): when it arrives, all garbage was handled.
    await pub.publishAsync('dameso/v1/intent/want_chunk', encode(intent('node-1')), { qos: 1 });
    await pub.publishAsync('other/app/topic', Buffer.from('not ours, passes'), { qos: 1 });
    await waitFor(sub, () => got.length >= 2, 'the valid messages');
    expect(got.map((m) => m.topic)).toEqual(['dameso/v1/intent/want_chunk', 'other/app/topic']);
    const stats = handle.stats!();
    expect(stats.dropped).toEqual({
      bad_cbor: 2,
      cbor_tag: 0,
      cbor_indefinite: 0,
      cbor_depth: 0,
      cbor_objects: 0,
      cbor_keys: 0,
      cbor_length: 0,
      cbor_int_range: 0,
      cbor_trailing: 0,
      bad_envelope: 3,
      too_large: 1,
      bad_id: 1,
      topic_mismatch: 1,
      bad_version: 1,
      bad_topic: 1,
      spoofed: 0,
      stale_session: 0,
    });
    expect(stats.droppedTotal).toBe(garbage.length);
    expect(stats.passed).toBe(1);
    expect(pub.connected).toBe(true);
  });

  it('drops spoofed publishes from a client bound to another node (dameso.{node})', async () => {
    handle = await startAedes();
    const sub = await client(handle.url);
    const got = await collect(sub, 'dameso/v1/#');
    const mallory = await client(handle.url, 'dameso.mallory');
    await mallory.publishAsync('dameso/v1/presence/node-1', encode(presence('node-1')), { qos: 1, retain: true });
    await mallory.publishAsync('dameso/v1/presence/node-1', Buffer.alloc(0), { qos: 1, retain: true });
    await mallory.publishAsync('dameso/v1/intent/want_chunk', encode(intent('node-1')), { qos: 1 });
    await mallory.publishAsync('dameso/v1/reply/node-2', encode(reply('node-1')), { qos: 1 });
    await mallory.publishAsync(`dameso/v1/have/${CHUNK}/node-1`, encode(have('node-1')), { qos: 1, retain: true });
    await mallory.publishAsync('dameso/v1/intent/want_chunk', encode(intent('mallory')), { qos: 1 });
    await waitFor(sub, () => got.length >= 1);
    expect(got.map((m) => (m.topic === 'dameso/v1/intent/want_chunk' ? m.payload.length : m.topic))).toHaveLength(1);
    expect(handle.stats!().dropped.spoofed).toBe(5);
    // Nothing spoofed was retained either.
    const late = await client(handle.url);
    const retained = await collect(late, 'dameso/v1/#');
    await late.publishAsync('dameso/v1/intent/want_chunk', encode(intent('x')), { qos: 1 });
    await waitFor(late, () => retained.some((m) => !m.retain));
    expect(retained.filter((m) => m.retain)).toEqual([]);
  });

  it('drops intents and replies of an older session than the node last announced, and its presence from any other client', async () => {
    handle = await startAedes();
    const sub = await client(handle.url);
    const got = await collect(sub, 'dameso/v1/#');
    const own = await client(handle.url, 'dameso.node-1');
    await own.publishAsync('dameso/v1/presence/node-1', encode(presence('node-1', { session: 7 })), {
      qos: 1,
      retain: true,
    });
    const tool = await client(handle.url);
    await tool.publishAsync('dameso/v1/intent/want_chunk', encode(intent('node-1', { session: 6 })), { qos: 1 });
    await tool.publishAsync('dameso/v1/reply/node-2', encode(reply('node-1', { session: 2 })), { qos: 1 });
    await tool.publishAsync('dameso/v1/presence/node-1', encode(presence('node-1', { session: 6, state: 'offline' })), {
      qos: 1,
      retain: true,
    });
    await tool.publishAsync('dameso/v1/intent/want_chunk', encode(intent('node-1', { session: 7 })), { qos: 1 });
    await waitFor(sub, () => got.length >= 2);
    expect(handle.stats!().dropped.stale_session).toBe(2);
    expect(handle.stats!().dropped.spoofed).toBe(1);
    // The retained record is still the online one of session 7.
    const late = await client(handle.url);
    const roster = await collect(late, 'dameso/v1/presence/+');
    await waitFor(late, () => roster.length === 1);
    expect(roster[0]!.payload).toEqual(encode(presence('node-1', { session: 7 })));
  });

  it('clears the retain flag of intents and replies', async () => {
    handle = await startAedes();
    const pub = await client(handle.url, 'dameso.node-1');
    await pub.publishAsync('dameso/v1/intent/want_chunk', encode(intent('node-1')), { qos: 1, retain: true });
    const late = await client(handle.url);
    const got = await collect(late, 'dameso/v1/#');
    await pub.publishAsync('dameso/v1/intent/want_chunk', encode(intent('node-1')), { qos: 1 });
    await waitFor(late, () => got.length >= 1);
    expect(got.map((m) => m.retain)).toEqual([false]);
    expect(handle.stats!().retainStripped).toBe(1);
  });

  it('can disconnect instead of dropping (onReject: disconnect)', async () => {
    handle = await startAedes({ onReject: 'disconnect' });
    const pub = await client(handle.url);
    const closed = new Promise<void>((resolve) => pub.once('close', () => resolve()));
    // 'g' heads a 7-byte text string with 6 bytes behind it.
    pub.publish('dameso/v1/intent/want_chunk', Buffer.from('garbage'), { qos: 0 });
    await closed;
    expect(handle.stats!().dropped.cbor_length).toBe(1);
  });

  it('nobody can subscribe to the drop topic and # does not see dropped publishes', async () => {
    handle = await startAedes();
    const spy = await client(handle.url);
    // SUBACK 0x80 (MQTT-3.9.3): mqtt.js rejects the subscription.
    await expect(spy.subscribeAsync('$dameso/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    const all = await collect(spy, '#');
    const pub = await client(handle.url);
    await pub.publishAsync('dameso/v1/intent/want_chunk', Buffer.from('garbage'), { qos: 1 });
    await pub.publishAsync('marker', Buffer.from('m'), { qos: 1 });
    await waitFor(spy, () => all.length >= 1);
    expect(all.map((m) => m.topic)).toEqual(['marker']);
  });
});

describe('broker host: fan-out narrowed by `to`', () => {
  it('delivers an intent naming `to` only to those nodes, and to every client that is not a node', async () => {
    handle = await startAedes();
    const topic = 'dameso/v1/intent/want_chunk';
    const named = await client(handle.url, 'dameso.node-2');
    const bystander = await client(handle.url, 'dameso.node-3');
    const observer = await client(handle.url); // not a node: sees everything
    const got = await Promise.all([named, bystander, observer].map((c) => collect(c, topic, 0)));
    const pub = await client(handle.url, 'dameso.node-1');
    await pub.publishAsync(topic, encode(intent('node-1', { id: 'addressed-1', to: ['node-2'] })), { qos: 0 });
    // The same connection next: once each subscriber has the unaddressed one, the first was handled.
    await pub.publishAsync(topic, encode(intent('node-1', { id: 'to-everyone' })), { qos: 0 });
    const [namedGot, bystanderGot, observerGot] = got as [Received[], Received[], Received[]];
    await waitFor(named, () => namedGot.length === 2, 'both intents at the named node');
    await waitFor(bystander, () => bystanderGot.length === 1, 'the unaddressed intent at the bystander');
    await waitFor(observer, () => observerGot.length === 2, 'both intents at the observer');
    const ids = (rs: Received[]) => rs.map((r) => (decode(r.payload) as { id: string }).id);
    expect(ids(namedGot)).toEqual(['addressed-1', 'to-everyone']);
    expect(ids(bystanderGot)).toEqual(['to-everyone']);
    expect(ids(observerGot)).toEqual(['addressed-1', 'to-everyone']);
    expect(handle.stats!().narrowed).toBe(1);
  });
});

describe('broker host: Wills', () => {
  it('refuses a connection whose Will speaks for another node (CONNACK 5) and counts it', async () => {
    handle = await startAedes();
    const will = {
      topic: 'dameso/v1/presence/node-1',
      payload: encode(presence('node-1', { state: 'offline' })),
      qos: 1 as const,
      retain: true,
    };
    await expect(connectClient(handle.url, { clientId: 'dameso.node-2', will })).rejects.toMatchObject({ code: 5 });
    await expect(
      connectClient(handle.url, { clientId: 'dameso.node-1', will: { ...will, payload: Buffer.from('junk') } }),
    ).rejects.toMatchObject({ code: 5 });
    expect(handle.stats!().willsRefused).toBe(2);
    const ok = await client(handle.url, 'dameso.node-1', { will });
    expect(ok.connected).toBe(true);
  });

  it('publishes the Will of a node that dies (MQTT-3.1.2-8) and it passes the check', async () => {
    handle = await startAedes();
    const sub = await client(handle.url);
    const got = await collect(sub, 'dameso/v1/presence/+');
    const offline = encode(presence('node-1', { state: 'offline' }));
    const node = await connectClient(handle.url, {
      clientId: 'dameso.node-1',
      will: { topic: 'dameso/v1/presence/node-1', payload: offline, qos: 1, retain: true },
    });
    await node.publishAsync('dameso/v1/presence/node-1', encode(presence('node-1')), { qos: 1, retain: true });
    (node.stream as unknown as { destroy(): void }).destroy();
    await waitFor(sub, () => got.length === 2);
    expect(got[1]!.payload).toEqual(offline);
    node.end(true);
  });
});

describe('broker host: reconnect with a new session (takeover)', () => {
  it('the retained record ends as the new session online, whatever the old Will does', async () => {
    handle = await startAedes();
    const url = handle.url;
    const will = (session: number) => ({
      topic: 'dameso/v1/presence/node-1',
      payload: encode(presence('node-1', { session, state: 'offline' })),
      qos: 1 as const,
      retain: true,
    });
    const old = await connectClient(url, { clientId: 'dameso.node-1', will: will(1) });
    await old.publishAsync('dameso/v1/presence/node-1', encode(presence('node-1', { session: 1 })), {
      qos: 1,
      retain: true,
    });
    // MQTT-3.1.4-2: the same client id takes the old connection over.
    const fresh = await client(url, 'dameso.node-1', { will: will(2) });
    await fresh.publishAsync('dameso/v1/presence/node-1', encode(presence('node-1', { session: 2 })), {
      qos: 1,
      retain: true,
    });
    // A late Will of session 1 published by another client must not win (the broker's own late
    // Will path: test/broker/envelope-check.test.ts).
    const tool = await client(url);
    await tool.publishAsync('dameso/v1/presence/node-1', will(1).payload, { qos: 1, retain: true });
    old.end(true);
    const late = await client(url);
    const roster = await collect(late, 'dameso/v1/presence/+');
    await waitFor(late, () => roster.length === 1);
    expect(roster[0]!.payload).toEqual(encode(presence('node-1', { session: 2 })));
    expect(handle.stats!().dropped.spoofed).toBe(1);
  });
});

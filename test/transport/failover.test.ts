/**
 * A node given several brokers (`--broker mqtt://a,mqtt://b`) tries them in turn: at start past a
 * broker that does not answer, and after losing the one it was on, with a new session each time.
 * Real Aedes brokers on real ports, real nodes.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parseBrokerUrl } from '../../src/cli/broker-url.js';
import { brokerUrls } from '../../src/transport/client.js';
import { type BrokerHandle, freePort, startAedes } from '../helpers/brokers.js';
import { NodePool, until } from '../helpers/node-fixtures.js';

describe('a list of brokers', () => {
  let a: BrokerHandle;
  let b: BrokerHandle;
  let pool: NodePool;
  beforeEach(async () => {
    a = await startAedes();
    b = await startAedes();
    pool = new NodePool();
  });
  afterEach(async () => {
    await pool.cleanup();
    await a.stop();
    await b.stop();
  });

  test('brokerUrls splits on commas and trims; one URL is a list of one', () => {
    expect(brokerUrls('mqtt://a:1883, mqtt://b:1883')).toEqual(['mqtt://a:1883', 'mqtt://b:1883']);
    expect(brokerUrls('mqtt://a:1883')).toEqual(['mqtt://a:1883']);
  });

  test('--broker takes a comma-separated list; an empty entry or `embedded` in it is a usage error', () => {
    expect(parseBrokerUrl('mqtt://a:1883,mqtt://b:1883')).toBe('mqtt://a:1883,mqtt://b:1883');
    expect(() => parseBrokerUrl('mqtt://a:1883,,mqtt://b:1883')).toThrow(/empty entry/);
    expect(() => parseBrokerUrl('mqtt://a:1883,embedded', { embedded: true })).toThrow(/embedded/);
    expect(() => parseBrokerUrl('mqtt://a:1883,b:1883')).toThrow(/no scheme/);
  });

  test('a node starts on the second broker when the first does not answer', async () => {
    const nothing = `mqtt://127.0.0.1:${await freePort()}`;
    const n = await pool.start(`${nothing},${b.url}`, 'n1');
    expect(n.transport.connection()).toMatchObject({ state: 'online', broker: b.url });
  });

  test('a node whose broker stops moves to the next one with a new session, and is online there', async () => {
    const n = await pool.start(`${a.url},${b.url}`, 'n2');
    expect(n.transport.connection().broker).toBe(a.url);
    const first = n.transport.session;
    const peer = await pool.start(b.url, 'peer');
    await a.stop();
    await until(() => n.transport.connection().broker === b.url && n.transport.connected, 10_000, 'n2 on B');
    expect(n.transport.session).toBeGreaterThan(first);
    await until(() => peer.roster.get('n2')?.online === true, 10_000, 'n2 online at the peer on B');
    expect(peer.roster.get('n2')?.session).toBe(n.transport.session);
  });
});

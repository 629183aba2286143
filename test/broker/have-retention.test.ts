import type { MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { createHaveRetention, defaultHaveShare } from '../../broker/have-retention.js';
import { decode, encode } from '../../src/protocol/index.js';
import { collect, connectClient, endAll, waitFor } from '../helpers/broker-clients.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { have } from '../protocol/fixtures.js';

const chunk = (i: number): string => i.toString(16).padStart(64, '0');
const topic = (i: number): string => `dameso/v1/have/${chunk(i)}/node-1`;

/** The have records the broker's store holds now, as chunk index → size. */
async function stored(h: BrokerHandle): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const persistence = (
    h.broker as unknown as { persistence: { createRetainedStream(p: string): AsyncIterable<{ payload: Buffer }> } }
  ).persistence;
  for await (const p of persistence.createRetainedStream('dameso/v1/have/#')) {
    const env = decode(p.payload) as { chunk: string; size: number };
    out.set(Number.parseInt(env.chunk, 16), env.size);
  }
  return out;
}

/** A broker with this bound, and a way to connect clients to it; all stopped after `fn`. */
async function withBroker(
  maxRetainedHaves: number,
  fn: (h: BrokerHandle, connect: (clientId?: string) => Promise<MqttClient>) => Promise<void>,
): Promise<void> {
  // One node fills the table here: its share is the whole table (shares: test/hostile/have-share.test.ts).
  const h = await startAedes({ maxRetainedHaves, maxHavesPerNode: maxRetainedHaves });
  const clients: MqttClient[] = [];
  const connect = async (clientId?: string) => {
    const c = await connectClient(h.url, clientId === undefined ? {} : { clientId });
    clients.push(c);
    return c;
  };
  try {
    await fn(h, connect);
  } finally {
    await endAll(...clients);
    await h.stop();
  }
}

describe('have retention (unit)', () => {
  it('admits up to the bound, always re-admits a kept topic, and a withdrawal frees a place', () => {
    const r = createHaveRetention(2, 2);
    expect([r.admit('a', 'n'), r.admit('b', 'n'), r.admit('c', 'n')]).toEqual(['kept', 'kept', 'table_full']);
    expect(r.admit('a', 'n')).toBe('kept');
    r.withdraw('b');
    r.withdraw('never-kept');
    expect([r.admit('c', 'n'), r.admit('d', 'n'), r.size]).toEqual(['kept', 'table_full', 2]);
  });

  it("gives each node a share: one node's records past it are refused, another node's are kept", () => {
    const r = createHaveRetention(10, 2);
    expect([r.admit('a1', 'a'), r.admit('a2', 'a'), r.admit('a3', 'a')]).toEqual(['kept', 'kept', 'over_share']);
    expect(r.admit('b1', 'b')).toBe('kept');
    expect([r.size, r.nodes]).toEqual([3, 2]);
    r.withdraw('a1');
    expect(r.admit('a3', 'a')).toBe('kept');
    r.withdraw('b1');
    expect(r.nodes).toBe(1);
  });

  it('the default share is a sixteenth of the table, at least one record', () => {
    expect([defaultHaveShare(100_000), defaultHaveShare(3), defaultHaveShare(0)]).toEqual([6_250, 1, 1]);
  });
});

describe('broker host: retained have records are bounded', () => {
  it('stores at most maxRetainedHaves; the rest reach live subscribers only; a withdrawal frees a place', () =>
    withBroker(3, async (handle, connect) => {
      const live = await connect();
      const got = await collect(live, 'dameso/v1/have/#');
      const pub = await connect('dameso.node-1');
      const announce = (i: number, size = 4096) =>
        pub.publishAsync(topic(i), encode(have('node-1', { chunk: chunk(i), size })), { qos: 1, retain: true });

      for (let i = 0; i < 5; i++) await announce(i);
      // Aedes stores a retained record before it delivers it: all five delivered = every store done.
      await waitFor(live, () => got.length === 5, 'five live have records');
      expect([...(await stored(handle)).keys()].sort()).toEqual([0, 1, 2]);
      expect(handle.stats?.()).toMatchObject({ retainedHaves: 3, havesNotRetained: 2, droppedTotal: 0 });

      // A kept record is updated even at the bound.
      await announce(1, 8192);
      await waitFor(live, () => got.length === 6, 'the update');
      expect((await stored(handle)).get(1)).toBe(8192);

      // A withdrawal (empty retained payload) frees a place for the next new record.
      await pub.publishAsync(topic(0), Buffer.alloc(0), { qos: 1, retain: true });
      await announce(4);
      await waitFor(live, () => got.length === 8, 'the withdrawal and the re-announce');
      expect([...(await stored(handle)).keys()].sort()).toEqual([1, 2, 4]);
      expect(handle.stats?.()).toMatchObject({ retainedHaves: 3, havesNotRetained: 2 });
    }));

  it('a restart with the in-memory store (records lost) starts the count again', () =>
    withBroker(2, async (handle, connect) => {
      let pub = await connect('dameso.node-1');
      for (let i = 0; i < 3; i++) {
        await pub.publishAsync(topic(i), encode(have('node-1', { chunk: chunk(i) })), { qos: 1, retain: true });
      }
      expect(handle.stats?.()).toMatchObject({ retainedHaves: 2, havesNotRetained: 1 });
      await handle.restart();
      expect(handle.stats?.()).toMatchObject({ retainedHaves: 0 });
      pub = await connect('dameso.node-1');
      for (let i = 3; i < 5; i++) {
        await pub.publishAsync(topic(i), encode(have('node-1', { chunk: chunk(i) })), { qos: 1, retain: true });
      }
      expect(handle.stats?.()).toMatchObject({ retainedHaves: 2, havesNotRetained: 1 });
    }));
});

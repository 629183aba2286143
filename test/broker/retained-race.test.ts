import { afterEach, describe, expect, it } from 'vitest';
import {
  clientIdForNode,
  createSyncRecord,
  createTopics,
  encode,
  rosterBarrierSubscription,
} from '../../src/protocol/index.js';
import { connectClient, endAll } from '../helpers/broker-clients.js';
import { measureRetainedRace, publishAsNodes } from '../helpers/broker-race.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';

// docs/protocol.md §6: Aedes keeps streaming retained records after SUBACK; a marker round trip is not enough.
// The roster barrier (src/protocol/roster-barrier.ts) is what a requester relies on.
let handle: BrokerHandle | undefined;
afterEach(async () => {
  await handle?.stop();
  handle = undefined;
});

describe('retained roster vs SUBACK on the dameso Aedes host', () => {
  it('the roster barrier arrives after all 500 retained presence records', async () => {
    handle = await startAedes();
    for (let run = 0; run < 3; run++) {
      const result = await measureRetainedRace(handle.url, 500, 'sync');
      expect(result.beforeSuback + result.afterSuback).toBe(500);
      expect(result.afterMarker).toBe(0);
    }
    expect(handle.stats!().droppedTotal).toBe(0);
  });

  it('the barrier holds when the sync record was stored before the presence records', async () => {
    handle = await startAedes();
    const topics = createTopics();
    const node = clientIdForNode('reader');
    const reader = await connectClient(handle.url, { clientId: node });
    const sync = createSyncRecord('reader', 0, 'nonce-1');
    await reader.publishAsync(topics.sync('reader'), encode(sync), { qos: 1, retain: true });
    const ids = Array.from({ length: 300 }, (_, i) => `n${i}`);
    await publishAsNodes(handle.url, ids, (id) => [
      topics.presence(id),
      encode({ v: 1, node: id, session: 1, state: 'online', roles: [], t: 0 }),
    ]);
    const order: string[] = [];
    const done = new Promise<void>((resolve) =>
      reader.on('message', (topic) => {
        order.push(topic);
        if (order.length === 301) resolve();
      }),
    );
    await reader.subscribeAsync(rosterBarrierSubscription(topics, 'reader'));
    await done;
    expect(order.at(-1)).toBe(topics.sync('reader'));
    await endAll(reader);
  });
});

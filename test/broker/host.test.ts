import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { encode } from '../../src/protocol/index.js';
import { collect, connectClient, endAll, waitFor } from '../helpers/broker-clients.js';
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

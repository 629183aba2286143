/**
 * Fair shares of the retained have table: with authentication, one node announcing without end
 * fills its share, not the table; another node's record stored afterwards is still kept.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFileAuth, setCredential } from '../../broker/index.js';
import { clientIdForNode, encode } from '../../src/protocol/index.js';
import { collect, connectClient, endAll, waitFor } from '../helpers/broker-clients.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { logTap } from '../helpers/log-tap.js';
import { have } from '../protocol/fixtures.js';

const CHEAP = { ln: 10, r: 8, p: 1 };
const NODES = ['node-a', 'node-b', 'reader'];
const chunk = (i: number) => i.toString(16).padStart(64, '0');
const topic = (i: number, node: string) => `dameso/v1/have/${chunk(i)}/${node}`;

let dir: string;
let users: string;
let handle: BrokerHandle | undefined;
const clients: MqttClient[] = [];
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dameso-hostile-haves-'));
  users = path.join(dir, 'broker.users');
  for (const node of NODES) await setCredential(users, node, `${node}-password`, CHEAP);
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(async () => {
  await endAll(...clients.splice(0));
  await handle?.stop();
  handle = undefined;
});

async function connect(url: string, node: string): Promise<MqttClient> {
  const c = await connectClient(url, { clientId: clientIdForNode(node), username: node, password: `${node}-password` });
  clients.push(c);
  return c;
}

describe('each node has a share of the retained have table', () => {
  it('node A past its share reaches live subscribers but is not stored; node B is still stored', async () => {
    const tap = logTap('info');
    handle = await startAedes({
      auth: await createFileAuth({ file: users }),
      maxRetainedHaves: 64,
      maxHavesPerNode: 16,
      log: tap.log,
    });
    const live = await connect(handle.url, 'reader');
    const heard = await collect(live, 'dameso/v1/have/+/+');
    const a = await connect(handle.url, 'node-a');
    const b = await connect(handle.url, 'node-b');

    // A announces 40 chunks, more than its share, and could go on forever.
    for (let i = 0; i < 40; i++) {
      await a.publishAsync(topic(i, 'node-a'), encode(have('node-a', { chunk: chunk(i) })), { qos: 1, retain: true });
    }
    await b.publishAsync(topic(1000, 'node-b'), encode(have('node-b', { chunk: chunk(1000) })), {
      qos: 1,
      retain: true,
    });
    await waitFor(live, () => heard.length === 41, 'every record live');
    expect(handle.stats!()).toMatchObject({ retainedHaves: 17, havesNotRetained: 24, havesOverShare: 24 });
    const warnings = tap.records.filter((r) => r.msg.includes('at its share'));
    expect(warnings.map((r) => [r.level, r.node])).toEqual([[40, 'node-a']]);

    // A fresh subscriber finds B's record, and A's share of records.
    const fresh = await connect(handle.url, 'reader');
    const stored = await collect(fresh, 'dameso/v1/have/+/+');
    await waitFor(fresh, () => stored.length === 17, 'the stored records');
    expect(stored.filter((m) => m.topic.endsWith('/node-b')).map((m) => m.topic)).toEqual([topic(1000, 'node-b')]);
    expect(stored.filter((m) => m.topic.endsWith('/node-a'))).toHaveLength(16);
  });
});

/**
 * Pulling a node's chunks back from real bt nodes into a folder: every matching chunk fetched and
 * verified, a chunk a node names but nobody serves reported as failed, a damaged file in the folder
 * fetched again, and a second pull keeping what is sound.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/chunks/index.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { createField, type Field, type FieldNode } from '../helpers/chunks-field.js';
import { wrapKind } from '../helpers/chunks-fixtures.js';

let broker: BrokerHandle;
let field: Field;
let owner: FieldNode;
let reader: FieldNode;
/** An id bt-1 claims in its want_chunks answers but holds nowhere. */
const PHANTOM = 'f'.repeat(64);

const claimsPhantom = wrapKind('want_chunks', (h) => ({
  ...h,
  relevant: () => true,
  handle: async (i) => {
    const a = await h.handle(i);
    const ids = a.r === 'yes' && Array.isArray(a.data) ? (a.data as string[]) : [];
    return { r: 'yes', data: [...ids, PHANTOM] };
  },
}));

beforeAll(async () => {
  broker = await startAedes();
  field = await createField(broker.url);
  await field.start('bt-1', { chunks: { wrapHandlers: claimsPhantom } });
  await field.start('bt-2');
  owner = await field.start('owner', { roles: [], chunks: { replicas: 2, maxEntries: 10 } });
  reader = await field.start('reader', { roles: [], chunks: { fetchDeadlineMs: 300 } });
  for (let i = 0; i < 300 && reader.node.roster.online().length < 3; i++) await new Promise((r) => setTimeout(r, 20));
  for (let i = 0; i < 45; i++) owner.node.series.record({ event: i % 2 ? 'gps' : 'temp', i });
  const pushed = await owner.chunks.pushSeries();
  expect(pushed.chunks.every((c) => c.met)).toBe(true);
});

afterAll(async () => {
  await field?.stopAll();
  await broker?.stop();
});

describe('pull', () => {
  it('fetches and verifies every chunk of a node into the folder; a phantom id is reported failed', async () => {
    const dir = join(field.root, 'pulled');
    const pushedIds = (await owner.node.series.tail(100, { event: 'chunk_pushed' })).map((e) => e.id as string);
    const res = await reader.chunks.pull({ node: 'owner' }, dir, { deadlineMs: 300 });
    expect(res.asked).toBe(2);
    expect(res.ids).toEqual([...new Set([...pushedIds, PHANTOM])].sort());
    expect(res.fetched.map((f) => f.id).sort()).toEqual([...new Set(pushedIds)].sort());
    expect(res.failed.map((f) => f.id)).toEqual([PHANTOM]);
    expect(res.failed[0]!.error).toMatch(/no verified copy/);
    for (const id of pushedIds) expect(sha256Hex(await readFile(join(dir, id)))).toBe(id);
    // Nothing but whole chunk files in the folder (no temp file left by the failed one).
    expect((await readdir(dir)).sort()).toEqual([...new Set(pushedIds)].sort());
  });

  it('run again: sound files are kept, a damaged one is fetched again', async () => {
    const dir = join(field.root, 'pulled');
    const [damaged, ...rest] = (await readdir(dir)).sort();
    await writeFile(join(dir, damaged!), 'not the chunk');
    const told: number[] = [];
    const res = await reader.chunks.pull({ node: 'owner' }, dir, {
      deadlineMs: 300,
      onProgress: (p) => told.push(p.done),
    });
    expect(res.fetched.map((f) => f.id)).toEqual([damaged]);
    expect(res.present.sort()).toEqual(rest);
    expect(res.failed.map((f) => f.id)).toEqual([PHANTOM]); // still nobody serves it
    expect(told).toEqual(res.ids.map((_, i) => i + 1));
    expect(sha256Hex(await readFile(join(dir, damaged!)))).toBe(damaged);
  });
});

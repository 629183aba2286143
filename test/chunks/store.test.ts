import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEMP_PREFIX } from '../../src/chunks/constants.js';
import { type ChunkStore, type ChunkStoreOptions, createChunkStore } from '../../src/chunks/store.js';
import { chunksView } from '../../src/chunks/view.js';
import { systemClock } from '../../src/clock.js';
import { silentLogger } from '../../src/log.js';
import type { Entry, Series } from '../../src/series/types.js';
import { flipByte, hex, makeChunk } from '../helpers/chunks-fixtures.js';
import { openSeries } from '../helpers/chunks-series.js';

let dir: string;
let series: Series;
let stores: ChunkStore[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dameso-chunks-store-'));
  stores = [];
  series = await openSeries(join(dir, 'series'), [chunksView]);
  await series.open();
});

afterEach(async () => {
  for (const s of stores) await s.close();
  await series.close();
  await rm(dir, { recursive: true, force: true });
});

async function openStore(o: Partial<ChunkStoreOptions> = {}): Promise<ChunkStore> {
  const store = createChunkStore({ dataDir: dir, series, clock: systemClock, log: silentLogger, ...o });
  await store.open();
  stores.push(store);
  return store;
}

async function entries(event: string): Promise<Entry[]> {
  await series.flush();
  const out: Entry[] = [];
  for await (const e of series.read({ event })) out.push(e);
  return out;
}

const chunkFiles = async () => (await readdir(join(dir, 'chunks'))).sort();

describe('chunk store', () => {
  it('stores a verified chunk as <dataDir>/chunks/<id>, records stored_chunk and counts its bytes', async () => {
    const store = await openStore();
    const c = makeChunk('n1', { entries: 3, event: 'gps' });
    expect(await store.put(c.id, c.bytes)).toEqual({ stored: true, evicted: [] });
    expect(await chunkFiles()).toEqual([c.id]);
    expect(store.has(c.id)).toBe(true);
    expect(store.usedBytes()).toBe(c.bytes.length);
    expect(hex(await store.get(c.id))).toBe(hex(c.bytes));
    const [stored] = await entries('stored_chunk');
    expect(stored).toMatchObject({
      id: c.id,
      size: c.bytes.length,
      node: 'n1',
      first_seq: 1,
      last_seq: 3,
      types: ['gps'],
    });
    // A second put of the same chunk writes nothing.
    expect(await store.put(c.id, c.bytes)).toEqual({ stored: false, evicted: [] });
    expect(await entries('stored_chunk')).toHaveLength(1);
  });

  it('rejects bytes that do not hash to the id: nothing stored, no file, no temp file', async () => {
    const store = await openStore();
    const c = makeChunk('n1');
    await expect(store.put(c.id, flipByte(c.bytes))).rejects.toMatchObject({ code: 'DAMESO_CHUNK_HASH_MISMATCH' });
    expect(await chunkFiles()).toEqual([]);
    expect(store.has(c.id)).toBe(false);
    expect(store.usedBytes()).toBe(0);
  });

  it('rejects an oversized chunk before hashing, and a well-hashed body that is not a chunk', async () => {
    const store = await openStore({ maxChunkBytes: 1000 });
    const big = makeChunk('n1', { approxBytes: 4000 });
    await expect(store.put(big.id, big.bytes)).rejects.toMatchObject({ code: 'DAMESO_CHUNK_TOO_LARGE' });
    const junk = new TextEncoder().encode('not cbor at all, just text');
    const { sha256Hex } = await import('../../src/chunks/verify.js');
    await expect(store.put(sha256Hex(junk), junk)).rejects.toMatchObject({ code: 'DAMESO_MALFORMED_CHUNK' });
    expect(await chunkFiles()).toEqual([]);
  });

  it('refuses at its budget with StorageFullError and leaves no partial file (whenFull: refuse)', async () => {
    const a = makeChunk('n1', { firstSeq: 1, approxBytes: 3000 });
    const b = makeChunk('n1', { firstSeq: 10, approxBytes: 3000 });
    const store = await openStore({ budgetBytes: a.bytes.length + 100 });
    await store.put(a.id, a.bytes);
    await expect(store.put(b.id, b.bytes)).rejects.toMatchObject({ code: 'DAMESO_STORAGE_FULL' });
    expect(await chunkFiles()).toEqual([a.id]);
    expect(store.usedBytes()).toBe(a.bytes.length);
  });

  it('evicts the least recently wanted chunks when configured to, and records evicted_chunk', async () => {
    const cs = [1, 10, 20, 30].map((s) => makeChunk('n1', { firstSeq: s, approxBytes: 2000 }));
    const [a, b, c, d] = cs as [(typeof cs)[0], (typeof cs)[0], (typeof cs)[0], (typeof cs)[0]];
    const evictedIds: string[] = [];
    const size = Math.max(...cs.map((x) => x.bytes.length));
    const store = await openStore({ budgetBytes: size * 3, whenFull: 'evict', onEvicted: (id) => evictedIds.push(id) });
    for (const x of [a, b, c]) await store.put(x.id, x.bytes);
    // `a` is wanted now, so `b` is the least recently wanted.
    expect(await store.get(a.id)).toBeDefined();
    const res = await store.put(d.id, d.bytes);
    expect(res).toEqual({ stored: true, evicted: [b.id] });
    expect(evictedIds).toEqual([b.id]);
    expect(await chunkFiles()).toEqual([a.id, c.id, d.id].sort());
    expect((await entries('evicted_chunk')).map((e) => [e.id, e.reason])).toEqual([[b.id, 'lru']]);
    expect(store.usedBytes()).toBeLessThanOrEqual(size * 3);
  });

  it('reconciles at open: adopts a verified file without entry, drops rotten and temp files, forgets missing ones', async () => {
    const store = await openStore();
    const kept = makeChunk('n1', { firstSeq: 1 });
    const lost = makeChunk('n1', { firstSeq: 50 });
    await store.put(kept.id, kept.bytes);
    await store.put(lost.id, lost.bytes);
    await store.close();
    stores = [];
    const orphan = makeChunk('n2', { firstSeq: 7 });
    const rotten = makeChunk('n2', { firstSeq: 70 });
    await writeFile(join(dir, 'chunks', orphan.id), orphan.bytes);
    await writeFile(join(dir, 'chunks', rotten.id), flipByte(rotten.bytes));
    await writeFile(join(dir, 'chunks', `${TEMP_PREFIX}${orphan.id}-1-0`), orphan.bytes.slice(0, 10));
    await rm(join(dir, 'chunks', lost.id));

    const again = createChunkStore({ dataDir: dir, series, clock: systemClock, log: silentLogger });
    const report = await again.open();
    stores.push(again);
    expect(report).toMatchObject({
      adopted: [orphan.id],
      missing: [lost.id],
      corrupt: [rotten.id],
      tempRemoved: 1,
      held: 2,
    });
    expect(await chunkFiles()).toEqual([kept.id, orphan.id].sort());
    expect(again.has(orphan.id) && again.has(kept.id) && !again.has(lost.id)).toBe(true);
    expect(hex(await again.get(orphan.id))).toBe(hex(orphan.bytes));
  });

  it('what it holds survives a restart: the view is rebuilt from the reopened series', async () => {
    const store = await openStore();
    const a = makeChunk('n1', { firstSeq: 1 });
    const b = makeChunk('n1', { firstSeq: 30 });
    await store.put(a.id, a.bytes);
    await store.put(b.id, b.bytes);
    await store.remove(a.id);
    await store.close();
    stores = [];
    await series.close();
    series = await openSeries(join(dir, 'series'), [chunksView]);
    await series.open();
    const again = await openStore();
    expect(again.list().map((c) => c.id)).toEqual([b.id]);
    expect(again.usedBytes()).toBe(b.bytes.length);
    expect(hex(await again.get(b.id))).toBe(hex(b.bytes));
    expect(await chunkFiles()).toEqual([b.id]);
  });

  it('never serves a held file that rotted on disk: get drops it', async () => {
    const store = await openStore({ cacheBytes: 0 });
    const c = makeChunk('n1');
    await store.put(c.id, c.bytes);
    await writeFile(join(dir, 'chunks', c.id), flipByte(c.bytes));
    expect(await store.get(c.id)).toBeUndefined();
    expect(store.has(c.id)).toBe(false);
    expect((await entries('evicted_chunk')).map((e) => e.reason)).toEqual(['corrupt']);
  });

  it('the cache holds its own verified copies: changing what was put or got changes nothing served', async () => {
    const store = await openStore();
    const c = makeChunk('n1');
    // A Buffer, as bodies come off the wire (its slice() is a view, not a copy).
    const pushed = Buffer.from(c.bytes);
    await store.put(c.id, pushed);
    pushed.fill(0); // the sender's buffer is reused after the put
    const got = await store.get(c.id);
    expect(hex(got)).toBe(hex(c.bytes));
    got?.fill(0); // a caller scribbles on what it got
    expect(hex(await store.get(c.id))).toBe(hex(c.bytes));
    expect(hex(await store.serve(c.id))).toBe(hex(c.bytes));
  });

  it('a chunk evicted from the cache is read from its file and re-hashed: a rotten file is never served', async () => {
    const a = makeChunk('n1', { firstSeq: 1 });
    const b = makeChunk('n1', { firstSeq: 100 });
    // Room for one chunk in the cache: putting b pushes a out.
    const store = await openStore({ cacheBytes: Math.max(a.bytes.length, b.bytes.length) });
    await store.put(a.id, a.bytes);
    await store.put(b.id, b.bytes);
    await writeFile(join(dir, 'chunks', a.id), flipByte(a.bytes));
    expect(hex(await store.serve(b.id))).toBe(hex(b.bytes));
    expect(await store.serve(a.id)).toBeUndefined();
    expect(store.has(a.id)).toBe(false);
    expect((await entries('evicted_chunk')).map((e) => e.id)).toEqual([a.id]);
  });

  it('a process SIGKILLed between the temp write and the rename leaves no visible chunk', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, '../helpers/chunks-crash-child.ts'), dir],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, sig) => resolve(sig)),
    );
    expect(signal, stderr).toBe('SIGKILL');
    const left = await chunkFiles();
    // The temp file of the interrupted write is there, and nothing under a chunk id.
    expect(left).toHaveLength(1);
    expect(left[0]?.startsWith(TEMP_PREFIX)).toBe(true);
    const store = createChunkStore({ dataDir: dir, series, clock: systemClock, log: silentLogger });
    const report = await store.open();
    stores.push(store);
    expect(report.tempRemoved).toBe(1);
    expect(await chunkFiles()).toEqual([]);
    expect(store.usedBytes()).toBe(0);
  });
});

import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createChunkHandlers } from '../../src/chunks/handlers.js';
import { type ChunkStore, createChunkStore } from '../../src/chunks/store.js';
import { chunksView } from '../../src/chunks/view.js';
import { systemClock } from '../../src/clock.js';
import type { Answer, IntentHandler, ReceivedIntent } from '../../src/intent/types.js';
import { silentLogger } from '../../src/log.js';
import type { Entry, Series } from '../../src/series/types.js';
import { flipByte, hex, makeChunk } from '../helpers/chunks-fixtures.js';
import { openSeries } from '../helpers/chunks-series.js';

let dir: string;
let series: Series;
let store: ChunkStore;
let announced: string[];
let withdrawn: string[];
let handlers: Map<string, IntentHandler>;

async function setup(o: { budgetBytes?: number; whenFull?: 'evict' | 'refuse'; maxChunkBytes?: number } = {}) {
  store = createChunkStore({
    dataDir: dir,
    series,
    clock: systemClock,
    log: silentLogger,
    onEvicted: (id) => withdrawn.push(id),
    ...o,
  });
  await store.open();
  const hs = createChunkHandlers({
    store,
    series,
    log: silentLogger,
    announce: async (id) => {
      announced.push(id);
    },
  });
  handlers = new Map(hs.map((h) => [h.kind, h]));
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dameso-chunks-handlers-'));
  series = await openSeries(join(dir, 'series'), [chunksView]);
  await series.open();
  announced = [];
  withdrawn = [];
});

afterEach(async () => {
  await store.close();
  await series.close();
  await rm(dir, { recursive: true, force: true });
});

function intent(kind: string, subject: string | undefined, body?: unknown, from = 'pusher'): ReceivedIntent {
  return {
    envelope: { v: 1, id: `i-${Math.random()}`, from, session: 1, kind, t: 0, deadline: 1000, subject, body },
    bytes: 100,
    receivedAt: 0,
  };
}

async function ask(kind: string, subject: string | undefined, body?: unknown, from?: string): Promise<Answer> {
  const h = handlers.get(kind)!;
  const i = intent(kind, subject, body, from);
  if (h.relevant && !(await h.relevant(i))) return { r: 'silence', why: 'irrelevant' };
  return h.handle(i);
}

const chunkFiles = async () => (await readdir(join(dir, 'chunks'))).sort();

describe('chunk handlers (role bt)', () => {
  it('serve the three chunk kinds with role bt', async () => {
    await setup();
    expect([...handlers.values()].map((h) => [h.kind, h.role])).toEqual([
      ['store_chunk', 'bt'],
      ['want_chunk', 'bt'],
      ['want_chunks', 'bt'],
    ]);
  });

  it('store_chunk: YES once stored and announced; again YES when already held', async () => {
    await setup();
    const c = makeChunk('n1');
    expect(await ask('store_chunk', c.id, c.bytes)).toEqual({ r: 'yes' });
    expect(announced).toEqual([c.id]);
    expect(await chunkFiles()).toEqual([c.id]);
    expect(await ask('store_chunk', c.id, c.bytes)).toEqual({ r: 'yes' });
  });

  it('store_chunk: hash mismatch → NO bad_request, nothing stored, chunk_rejected against the sender', async () => {
    await setup();
    const c = makeChunk('n1');
    expect(await ask('store_chunk', c.id, flipByte(c.bytes), 'liar')).toEqual({ r: 'no', reason: 'bad_request' });
    expect(await chunkFiles()).toEqual([]);
    expect(announced).toEqual([]);
    await series.flush();
    const rejected: Entry[] = [];
    for await (const e of series.read({ event: 'chunk_rejected' })) rejected.push(e);
    expect(rejected).toMatchObject([{ from: 'liar', id: c.id, reason: 'hash_mismatch' }]);
  });

  it('store_chunk: malformed bodies and ids → NO bad_request; oversized → NO too_large', async () => {
    await setup({ maxChunkBytes: 1024 });
    const c = makeChunk('n1');
    expect(await ask('store_chunk', c.id, 'text, not bytes')).toEqual({ r: 'no', reason: 'bad_request' });
    expect(await ask('store_chunk', c.id, undefined)).toEqual({ r: 'no', reason: 'bad_request' });
    expect(await ask('store_chunk', 'not-an-id', c.bytes)).toEqual({ r: 'no', reason: 'bad_request' });
    expect(await ask('store_chunk', undefined, c.bytes)).toEqual({ r: 'no', reason: 'bad_request' });
    const { sha256Hex } = await import('../../src/chunks/verify.js');
    const junk = new Uint8Array([0xff, 0x00, 0x13]);
    expect(await ask('store_chunk', sha256Hex(junk), junk)).toEqual({ r: 'no', reason: 'bad_request' });
    const big = makeChunk('n1', { approxBytes: 5000 });
    expect(await ask('store_chunk', big.id, big.bytes)).toEqual({ r: 'no', reason: 'too_large' });
    expect(await chunkFiles()).toEqual([]);
  });

  it('store_chunk at the budget: NO storage_full and no partial file; with evict, YES and the victim withdrawn', async () => {
    const a = makeChunk('n1', { firstSeq: 1, approxBytes: 2000 });
    const b = makeChunk('n1', { firstSeq: 9, approxBytes: 2000 });
    await setup({ budgetBytes: a.bytes.length + 10 });
    expect(await ask('store_chunk', a.id, a.bytes)).toEqual({ r: 'yes' });
    expect(await ask('store_chunk', b.id, b.bytes)).toEqual({ r: 'no', reason: 'storage_full' });
    expect(await chunkFiles()).toEqual([a.id]);
    await store.close();
    await setup({ budgetBytes: a.bytes.length + 10, whenFull: 'evict' });
    expect(await ask('store_chunk', b.id, b.bytes)).toEqual({ r: 'yes' });
    expect(withdrawn).toEqual([a.id]);
    expect(await chunkFiles()).toEqual([b.id]);
  });

  it('want_chunk: YES with the verified bytes when held, silence otherwise', async () => {
    await setup();
    const c = makeChunk('n1');
    expect(await ask('want_chunk', c.id)).toMatchObject({ r: 'silence' });
    await store.put(c.id, c.bytes);
    const a = await ask('want_chunk', c.id);
    expect(a.r).toBe('yes');
    expect(hex(a.r === 'yes' ? (a.data as Uint8Array) : undefined)).toBe(hex(c.bytes));
    expect(await ask('want_chunk', 'zz')).toMatchObject({ r: 'silence' });
  });

  it('want_chunks: matching ids by node, event and time range from the index; bad filter → NO bad_request', async () => {
    await setup();
    const gps = makeChunk('n1', { firstSeq: 1, event: 'gps', t0: 1000_000 });
    const temp = makeChunk('n2', { firstSeq: 1, event: 'temp', t0: 5000_000 });
    await store.put(gps.id, gps.bytes);
    await store.put(temp.id, temp.bytes);
    expect(await ask('want_chunks', undefined, {})).toEqual({ r: 'yes', data: [gps.id, temp.id] });
    expect(await ask('want_chunks', undefined, { event: 'gps' })).toEqual({ r: 'yes', data: [gps.id] });
    expect(await ask('want_chunks', undefined, { node: 'n2' })).toEqual({ r: 'yes', data: [temp.id] });
    expect(await ask('want_chunks', undefined, { from_t: 4000_000 })).toEqual({ r: 'yes', data: [temp.id] });
    expect(await ask('want_chunks', undefined, { to_t: 1002_000 })).toEqual({ r: 'yes', data: [gps.id] });
    expect(await ask('want_chunks', undefined, { event: 'nothing' })).toMatchObject({ r: 'silence' });
    expect(await ask('want_chunks', undefined, { from_t: 'yesterday' })).toEqual({ r: 'no', reason: 'bad_request' });
    expect(await ask('want_chunks', undefined, { colour: 'red' })).toEqual({ r: 'no', reason: 'bad_request' });
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encode } from 'cbor-x';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chunkingPolicy, streamChunks } from '../../src/chunks/chunker.js';
import { sha256Hex } from '../../src/chunks/verify.js';
import type { Chunk, Series } from '../../src/series/types.js';
import { openSeries } from '../helpers/chunks-series.js';

let dir: string;
let series: Series;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dameso-chunker-'));
  series = await openSeries(join(dir, 'series'), []);
  await series.open();
});

afterEach(async () => {
  await series.close();
  await rm(dir, { recursive: true, force: true });
});

async function fill(n: number, padBytes: number): Promise<{ first: number; last: number }> {
  let first = 0;
  let last = 0;
  for (let i = 0; i < n; i++) {
    const e = await series.append({ event: i % 2 ? 'gps' : 'temp', i, pad: 'p'.repeat(padBytes) });
    if (i === 0) first = e.seq;
    last = e.seq;
  }
  return { first, last };
}

async function cut(from: number, to: number, o: Parameters<typeof streamChunks>[4], node = 'node-a'): Promise<Chunk[]> {
  const out: Chunk[] = [];
  for await (const c of streamChunks(series, node, from, to, o)) out.push(c);
  return out;
}

/** Encoded entry bytes of a chunk: what the policy's `maxBytes` bounds. */
const entryBytes = (c: Chunk): number => c.chunk.events.reduce((n, e) => n + encode(e).length, 0);

describe('chunking policy', () => {
  it('cuts by entries: consecutive chunks of at most maxEntries, covering every entry once', async () => {
    const { first, last } = await fill(25, 10);
    const chunks = await cut(first, last, { maxEntries: 10, maxBytes: 1 << 20 });
    expect(chunks.map((c) => [c.chunk.first_seq, c.chunk.last_seq, c.chunk.events.length])).toEqual([
      [first, first + 9, 10],
      [first + 10, first + 19, 10],
      [first + 20, last, 5],
    ]);
  });

  it('cuts by bytes: no chunk above maxBytes of entries unless a single entry is bigger', async () => {
    const { first, last } = await fill(20, 200);
    const chunks = await cut(first, last, { maxEntries: 1000, maxBytes: 1000 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks) expect(entryBytes(c)).toBeLessThanOrEqual(1000);
    expect(chunks.reduce((n, c) => n + c.chunk.events.length, 0)).toBe(20);
    const big = await fill(1, 3000);
    const alone = await cut(big.first, big.last, { maxBytes: 1000 });
    expect(alone).toHaveLength(1);
    expect(entryBytes(alone[0]!)).toBeGreaterThan(1000);
  });

  it('yields each chunk as soon as it is cut: the pass has read one entry past it, not the range', async () => {
    const { first, last } = await fill(40, 10);
    let pulled = 0;
    const counting = {
      ...series,
      read: (q: Parameters<Series['read']>[0]) =>
        (async function* () {
          for await (const e of series.read(q)) {
            pulled++;
            yield e;
          }
        })(),
    } as Series;
    const chunks = streamChunks(counting, 'node-a', first, last, { maxEntries: 10 });
    const one = await chunks.next();
    expect(one.done).toBe(false);
    expect(pulled).toBe(11);
    await chunks.return(undefined); // a consumer that stops early (a push short of K) ends the read
    expect(pulled).toBe(11);
  });

  it('cuts the same chunks, byte for byte, as the series builds for each range', async () => {
    const { first, last } = await fill(30, 50);
    for (const c of await cut(first, last, { maxEntries: 7 })) {
      const again = await series.chunk(c.chunk.first_seq, c.chunk.last_seq, 'node-a');
      expect(again.id).toBe(c.id);
    }
  });

  it('each chunk is the v1 map of its range, with its id the SHA-256 of its bytes', async () => {
    const { first, last } = await fill(12, 10);
    const chunks = await cut(first, last, { maxEntries: 5 });
    expect(chunks).toHaveLength(3);
    for (const c of chunks) {
      expect(c.id).toBe(sha256Hex(c.bytes));
      const m = decode(c.bytes) as { v: number; node: string; events: unknown[] };
      expect(m.v).toBe(1);
      expect(m.node).toBe('node-a');
    }
    expect(chunks.map((c) => [c.chunk.first_seq, c.chunk.last_seq])).toEqual([
      [first, first + 4],
      [first + 5, first + 9],
      [first + 10, last],
    ]);
  });

  it('rejects a nonsense policy at start-up', () => {
    expect(() => chunkingPolicy({ maxEntries: 0 })).toThrow(/chunks.maxEntries/);
    expect(() => chunkingPolicy({ maxBytes: -1 })).toThrow(/chunks.maxBytes/);
  });
});

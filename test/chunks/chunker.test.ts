import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'cbor-x';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chunkingPolicy, cutChunks, cutRanges } from '../../src/chunks/chunker.js';
import { sha256Hex } from '../../src/chunks/verify.js';
import type { Series } from '../../src/series/types.js';
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

describe('chunking policy', () => {
  it('cuts by entries: consecutive ranges of at most maxEntries, covering every entry once', async () => {
    const { first, last } = await fill(25, 10);
    const ranges = await cutRanges(series, first, last, { maxEntries: 10, maxBytes: 1 << 20 });
    expect(ranges.map((r) => [r.fromSeq, r.toSeq, r.entries])).toEqual([
      [first, first + 9, 10],
      [first + 10, first + 19, 10],
      [first + 20, last, 5],
    ]);
  });

  it('cuts by bytes: no range above maxBytes unless a single entry is bigger', async () => {
    const { first, last } = await fill(20, 200);
    const ranges = await cutRanges(series, first, last, { maxEntries: 1000, maxBytes: 1000 });
    expect(ranges.length).toBeGreaterThan(3);
    for (const r of ranges) expect(r.bytes).toBeLessThanOrEqual(1000);
    expect(ranges.reduce((n, r) => n + r.entries, 0)).toBe(20);
    const big = await fill(1, 3000);
    const alone = await cutRanges(series, big.first, big.last, { maxBytes: 1000 });
    expect(alone).toHaveLength(1);
  });

  it('each chunk is the v1 map of its range, with its id the SHA-256 of its bytes', async () => {
    const { first, last } = await fill(12, 10);
    const chunks = await cutChunks(series, 'node-a', first, last, { maxEntries: 5 });
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

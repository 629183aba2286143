/** Temp folders for series tests, removed after. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry, View } from '../../src/series/index.js';

export async function withTmpDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'dameso-series-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** A count of entries per event. */
export const countView: View<Record<string, number>> = {
  name: 'count',
  initial: () => ({}),
  apply: (s, e: Entry) => ({ ...s, [e.event]: (s[e.event] ?? 0) + 1 }),
};

/** Sum of the numeric field `n`, and the last 3 seqs seen (a bounded list). */
export const sumView: View<{ sum: number; last: number[] }> = {
  name: 'sum',
  initial: () => ({ sum: 0, last: [] }),
  apply: (s, e: Entry) => ({
    sum: s.sum + (typeof e.n === 'number' ? e.n : 0),
    last: [...s.last, e.seq].slice(-3),
  }),
};

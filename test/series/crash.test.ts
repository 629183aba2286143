/**
 * Real processes, real SIGKILL (littlefs-style power-loss testing, minus the power): a child
 * appends with `batch` or `always` and is killed at random moments, 24 times in a row. Every seq
 * it printed as durable must be on disk, the series must verify clean, and the next child must
 * continue from the right seq.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySeries } from '../../src/series/verify.js';
import { bundledCli, spawnAppend } from '../helpers/series-child.js';
import { readAll } from '../helpers/series-files.js';
import { withTmpDir } from '../helpers/series-tmp.js';

const CYCLES = 24;

/** A small seeded PRNG, so a failing run can be replayed from the seed in the message. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('series under SIGKILL', () => {
  beforeAll(async () => {
    await bundledCli();
  }, 60_000);
  afterAll(() => undefined);

  it(`keeps every printed durable seq across ${CYCLES} kills (batch and always alternating)`, async () => {
    const seed = Number(process.env.DAMESO_SEED ?? Date.now() % 1_000_000);
    const rand = rng(seed);
    await withTmpDir(async (dir) => {
      let lastSeqOnDisk = 0;
      let printedTotal = 0;
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const mode = cycle % 2 === 0 ? 'batch' : 'always';
        const size = [16, 200, 1000][Math.floor(rand() * 3)]!;
        const c = await spawnAppend([
          '--dir',
          dir,
          '--count',
          '100000000',
          '--size',
          String(size),
          '--durability',
          mode,
          '--window',
          '2',
          // Small segments and budget, so kills also land around rotations and evictions.
          '--segment-bytes',
          String(128 * 1024),
          '--budget-bytes',
          String(1024 * 1024),
          // Few appends in flight, so commits are small and many "durable" lines race the kill.
          '--in-flight',
          String(1 + Math.floor(rand() * 64)),
        ]);
        // Kill at a random moment: sometimes while it opens (recovery), mostly while appending.
        if (rand() < 0.2) await sleep(rand() * 60);
        else {
          await c.firstDurable;
          await sleep(5 + rand() * 120);
        }
        const tKill = performance.now();
        c.child.kill('SIGKILL');
        const exit = await c.exited;
        const ctx = `seed ${seed} cycle ${cycle} mode ${mode} size ${size}; stderr: ${c.stderr.join('')}`;
        expect(exit.signal, ctx).toBe('SIGKILL');
        const printed = c.durable;
        printedTotal += printed.length;
        const all = await readAll(dir);
        const seqs = all.map((e) => e.seq);
        // Contiguous from the oldest retained (the ring evicts whole oldest segments): nothing lost
        // inside the ring, nothing duplicated, and appends continued from the right seq.
        if (seqs.length === 0) {
          // Killed before the first segment was written: nothing may have been printed.
          expect(printed, ctx).toEqual([]);
          continue;
        }
        const first = seqs[0]!;
        const last = seqs[seqs.length - 1]!;
        expect(seqs, ctx).toEqual(Array.from({ length: seqs.length }, (_, i) => i + first));
        const maxPrinted = printed.length ? printed[printed.length - 1]! : 0;
        expect(last, ctx).toBeGreaterThanOrEqual(maxPrinted);
        expect(last, ctx).toBeGreaterThanOrEqual(lastSeqOnDisk);
        expect(all[0]!.event, ctx).toBe('snapshot');
        // The first entry this child appended (i = 0) directly follows what the last one left.
        const firstOfChild = all.find((e) => e.seq > lastSeqOnDisk && e.event === 'append');
        // (Unless the ring already evicted them: the child may append more than the budget.)
        if (firstOfChild && first <= lastSeqOnDisk + 1) {
          expect(firstOfChild.i, ctx).toBe(0);
          // Only snapshot entries (a fresh series' first, or a rotation's) may sit in between.
          const between = all.filter((e) => e.seq > lastSeqOnDisk && e.seq < firstOfChild.seq);
          expect(between.every((e) => e.event === 'snapshot') && between.length <= 1, ctx).toBe(true);
        }
        lastSeqOnDisk = last;
        const v = await verifySeries(dir);
        if (process.env.DAMESO_DEBUG) console.log(cycle, printed.length, (performance.now() - tKill).toFixed(0));
        expect(v, ctx).toMatchObject({ sound: true, corruptRecords: 0, missingSeqs: 0 });
      }
      expect(printedTotal).toBeGreaterThan(CYCLES);
    });
  }, 120_000);
});

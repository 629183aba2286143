/**
 * `npx tsx test/bench/status.bench.ts`: what `dameso status --data` costs on a full-size series
 * beside its node. Prints ONE JSON object on stdout.
 *
 * A series of BENCH_STATUS_MIB (default 64, the size `chunks push` is benchmarked at) of
 * decision-like entries and no `survey` or `backup` entry: the worst case, where status looks for
 * entries that are not there. Measured in this run, several times each, median and range:
 * - baseline: the read-only open alone (what every reader of the folder pays);
 * - status: `statusFromData` (open + views + the bounded search of the newest entries);
 * - unbounded: `tail(1)` over the whole ring for the same two events (what the search would cost
 *   without its bound).
 * Ratios are against the open and against the unbounded tail of the same run (the open reads one
 * segment and is small and noisy; the unbounded tail is the cost the bound avoids).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERIES_SUBDIR } from '../../src/node/constants.js';
import { createSeries } from '../../src/series/index.js';
import { BACKUP_EVENT, STATUS_SCAN_ENTRIES, SURVEY_EVENT, statusFromData } from '../../src/status/index.js';

const MiB = 1024 * 1024;
const TARGET_MIB = Number(process.env.BENCH_STATUS_MIB ?? 64);
const RUNS = Number(process.env.BENCH_STATUS_RUNS ?? 7);
const LIM = { economic: 0.9, cpu: 0.8, memory: 0.7, w_tracking: 1, objective: 0.5, topology: 1 };

async function fill(dir: string): Promise<{ entries: number; bytes: number }> {
  const series = createSeries({ dir, durability: 'none', budgetBytes: (TARGET_MIB + 16) * MiB });
  await series.open();
  let i = 0;
  while (series.bytes() < TARGET_MIB * MiB) {
    for (let k = 0; k < 1000; k++, i++) {
      series.record({
        event: 'decision',
        id: `01J${String(i).padStart(23, '0')}`,
        kind: 'want_chunk',
        from: 'n1',
        r: 'yes',
        lim: LIM,
        outcome: 'sent',
      });
    }
    await series.flush();
  }
  const bytes = series.bytes();
  await series.close();
  return { entries: i, bytes };
}

async function timed(fn: () => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return ms;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    medianMs: round(s[Math.floor(s.length / 2)] ?? 0),
    minMs: round(s[0] ?? 0),
    maxMs: round(s[s.length - 1] ?? 0),
  };
};

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'dameso-bench-status-'));
  const dir = join(dataDir, SERIES_SUBDIR);
  try {
    const filled = await fill(dir);
    const openOnly = async () => {
      const s = createSeries({ dir, readOnly: true });
      await s.open();
      await s.close();
    };
    const unbounded = async () => {
      const s = createSeries({ dir, readOnly: true });
      await s.open();
      await s.tail(1, { event: [SURVEY_EVENT, BACKUP_EVENT] });
      await s.close();
    };
    await openOnly(); // warm the page cache for every arm alike
    const baseline = stats(await timed(openOnly));
    const status = stats(await timed(() => statusFromData(dataDir)));
    const full = stats(await timed(unbounded));
    process.stdout.write(
      `${JSON.stringify({
        bench: 'status',
        seriesMiB: Math.round((filled.bytes / MiB) * 10) / 10,
        entries: filled.entries,
        scanEntries: STATUS_SCAN_ENTRIES,
        runs: RUNS,
        baselineOpen: baseline,
        status,
        unboundedTail: full,
        statusVsOpen: Math.round((status.medianMs / baseline.medianMs) * 100) / 100,
        unboundedVsOpen: Math.round((full.medianMs / baseline.medianMs) * 100) / 100,
        statusVsUnbounded: Math.round((status.medianMs / full.medianMs) * 100) / 100,
      })}\n`,
    );
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();

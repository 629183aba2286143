/**
 * Series benchmark (`npm run bench:series`): one JSON object on stdout.
 *
 * - Appends/s in each durability mode, from a producer that keeps appending (yielding to the
 *   event loop every 256 appends, at most 4096 awaiting durability), 100-byte data per entry;
 *   and in a closed loop: 64 writers each awaiting its append before the next.
 * - The baseline, measured in the same run on the same disk: raw `write` + `fdatasync` (write only
 *   for `none`) of the same batch: the same record bytes and the same records per commit that
 *   the mode achieved, appended to 4 MiB files like segments. ratio = dameso / raw. The open-loop
 *   modes alternate dameso and raw blocks (BENCH_BLOCKS, default 6) so that load from other
 *   processes on a shared machine falls on both alike; rates come from the totals.
 * - Open time of a full 64 MiB series (16 segments of 4 MiB, a view), in this process and in a
 *   child, and the RSS of a child process holding that series open (after appends and reads),
 *   next to the RSS of a bare child that loaded the same code.
 * Targets: batch >= 0.5x raw; open 64 MiB <= 1 s; RSS <= 80 MB.
 */
import { spawn } from 'node:child_process';
import { constants as fsc } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createSeries,
  DEFAULT_BATCH_WINDOW_MS,
  type Durability,
  type Entry,
  type Series,
  type View,
} from '../../src/series/index.js';
import { bundle } from '../helpers/series-child.js';

const DATA_BYTES = 100;
const MODE_MS = Number(process.env.BENCH_MODE_MS ?? 3000);
const RAW_MS = Number(process.env.BENCH_RAW_MS ?? 2000);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1000);
/** Alternating dameso/raw blocks per mode. */
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 6);
const MIB = 1024 * 1024;
/** Batch window override (ms), to see the window's share of the closed-loop figure. */
const WINDOW_MS = process.env.BENCH_BATCH_WINDOW_MS ? Number(process.env.BENCH_BATCH_WINDOW_MS) : undefined;

const log = (msg: string) => process.stderr.write(`bench:series ${msg}\n`);
const sleep0 = () => new Promise((r) => setImmediate(r));

interface CommitStats {
  commits: number;
  records: number;
}
const commitStats = (s: Series) => (s as unknown as { commitStats(): CommitStats }).commitStats();

/**
 * `closed`: `CLOSED_WRITERS` writers, each awaiting its append before the next (a node's parts
 * awaiting their entries): disk-bound, where group commit shows. `open`: a saturating producer.
 */
const CLOSED_WRITERS = 64;

async function runClosed(root: string, durability: Durability) {
  const dir = join(root, `closed-${durability}`);
  const s = createSeries({ dir, durability, batchWindowMs: WINDOW_MS });
  await s.open();
  const data = new Uint8Array(DATA_BYTES).fill(7);
  const before = commitStats(s);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: CLOSED_WRITERS }, async (_, w) => {
      for (let i = 0; performance.now() - t0 < MODE_MS; i++) {
        await s.append({ event: 'bench', w, i, data });
        done++;
      }
    }),
  );
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const after = commitStats(s);
  await s.close();
  await rm(dir, { recursive: true, force: true });
  const records = after.records - before.records;
  return {
    appendsPerSec: Math.round((done / ms) * 1000),
    appends: done,
    commits: after.commits - before.commits,
    entriesPerCommit: Math.round(records / (after.commits - before.commits)),
    cpuUsPerAppend: Number(((cpu.user + cpu.system) / done).toFixed(2)),
  };
}

/** One block of the saturating producer on an open series. */
async function produce(s: Series, blockMs: number) {
  const data = new Uint8Array(DATA_BYTES).fill(7);
  let inFlight = 0;
  let done = 0;
  let wake: (() => void) | undefined;
  const settled = () => {
    inFlight--;
    done++;
    wake?.();
  };
  const before = commitStats(s);
  const bytesBefore = s.stats().bytes + s.stats().evictedSegments * 4 * MIB;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let i = 0;
  while (performance.now() - t0 < blockMs) {
    for (let k = 0; k < 256; k++) {
      inFlight++;
      s.append({ event: 'bench', i: i++, data }).then(settled);
    }
    while (inFlight > 4096) await new Promise<void>((r) => (wake = r));
    await sleep0();
  }
  while (inFlight > 0) await new Promise<void>((r) => (wake = r));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const after = commitStats(s);
  const bytes = s.stats().bytes + s.stats().evictedSegments * 4 * MIB - bytesBefore;
  return {
    ms,
    appends: done,
    cpuUs: cpu.user + cpu.system,
    commits: after.commits - before.commits,
    records: after.records - before.records,
    bytes,
  };
}

/**
 * A mode against its raw baseline, in alternating blocks (dameso, raw, dameso, raw…) so that load
 * from other processes on this shared machine hits both alike; each raw block writes the record
 * size and records per commit the dameso block before it achieved. Rates come from the totals.
 */
async function compareMode(root: string, durability: Durability, totalMs = MODE_MS) {
  const dir = join(root, `mode-${durability}`);
  const s = createSeries({ dir, durability, batchWindowMs: WINDOW_MS });
  await s.open();
  const t = { ms: 0, appends: 0, cpuUs: 0, commits: 0, records: 0, bytes: 0 };
  const rawT = { ms: 0, appends: 0 };
  for (let b = 0; b < BLOCKS; b++) {
    const d = await produce(s, totalMs / BLOCKS);
    for (const k of Object.keys(t) as (keyof typeof t)[]) t[k] += d[k];
    const r = await raw(
      root,
      Math.round(d.bytes / d.records),
      Math.round(d.records / d.commits),
      durability !== 'none',
      (RAW_MS * totalMs) / MODE_MS / BLOCKS,
    );
    rawT.ms += r.ms;
    rawT.appends += r.appends;
  }
  await s.close();
  await rm(dir, { recursive: true, force: true });
  const appendsPerSec = Math.round((t.appends / t.ms) * 1000);
  const rawAppendsPerSec = Math.round((rawT.appends / rawT.ms) * 1000);
  return {
    appendsPerSec,
    appends: t.appends,
    commits: t.commits,
    entriesPerCommit: Math.round(t.records / t.commits),
    recordBytes: Math.round(t.bytes / t.records),
    cpuUsPerAppend: Number((t.cpuUs / t.appends).toFixed(2)),
    rawAppendsPerSec,
    ratioToRaw: Number((appendsPerSec / rawAppendsPerSec).toFixed(3)),
  };
}

/** Raw write (+ fdatasync) of `perCommit` records of `recordBytes`, appended to 4 MiB files. */
async function raw(root: string, recordBytes: number, perCommit: number, sync: boolean, rawMs = RAW_MS) {
  const buf = Buffer.alloc(recordBytes * perCommit, 0x5a);
  let file = 0;
  let fh = await open(join(root, `raw-${file}`), fsc.O_RDWR | fsc.O_CREAT | fsc.O_TRUNC);
  let pos = 0;
  let commits = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < rawMs) {
    if (pos + buf.length > 4 * MIB && pos > 0) {
      await fh.close();
      await rm(join(root, `raw-${file}`));
      fh = await open(join(root, `raw-${++file}`), fsc.O_RDWR | fsc.O_CREAT | fsc.O_TRUNC);
      pos = 0;
    }
    await fh.write(buf, 0, buf.length, pos);
    if (sync) await fh.datasync();
    pos += buf.length;
    commits++;
  }
  const ms = performance.now() - t0;
  await fh.close();
  await rm(join(root, `raw-${file}`), { force: true });
  return { appendsPerSec: Math.round(((commits * perCommit) / ms) * 1000), commits, ms, appends: commits * perCommit };
}

const countView: View<Record<string, number>> = {
  name: 'count',
  initial: () => ({}),
  apply: (s, e: Entry) => ({ ...s, [e.event]: (s[e.event] ?? 0) + 1 }),
};

/** Fill a series to its 64 MiB budget (the ring has started evicting). */
async function build64(dir: string): Promise<void> {
  const s = createSeries({ dir, durability: 'none', views: [countView as View<unknown>] });
  await s.open();
  const data = new Uint8Array(1000).fill(3);
  let i = 0;
  while (s.stats().evictedSegments === 0) {
    const batch: Promise<Entry>[] = [];
    for (let k = 0; k < 1000; k++) batch.push(s.append({ event: i % 2 ? 'a' : 'b', i: i++, data }));
    await Promise.all(batch);
  }
  await s.close();
}

function child(script: string, args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--expose-gc', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    c.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'dameso-bench-series-'));
  try {
    const modes: Record<string, unknown> = {};
    const closed: Record<string, unknown> = {};
    // Unmeasured warm-up: otherwise the first mode measured (batch) also pays the JIT compiling
    // the append path, and reads slower than the modes after it.
    log('warm-up');
    await compareMode(root, 'batch', WARMUP_MS);
    for (const durability of ['batch', 'always', 'none'] as const) {
      log(`mode ${durability}`);
      const d = await compareMode(root, durability);
      modes[durability] = d;
      if (durability === 'none') continue;
      log(`closed loop ${durability}`);
      const c = await runClosed(root, durability);
      const rc = await raw(root, d.recordBytes, c.entriesPerCommit, true);
      closed[durability] = {
        ...c,
        rawAppendsPerSec: rc.appendsPerSec,
        ratioToRaw: Number((c.appendsPerSec / rc.appendsPerSec).toFixed(3)),
      };
    }
    log('building a 64 MiB series');
    const dir = join(root, 'full');
    await build64(dir);
    const opens: number[] = [];
    let report: unknown;
    for (let k = 0; k < 3; k++) {
      const s = createSeries({ dir, views: [countView as View<unknown>] });
      const t0 = performance.now();
      report = await s.open();
      opens.push(performance.now() - t0);
      await s.close();
    }
    opens.sort((a, b) => a - b);
    log('child processes');
    const script = await bundle('test/helpers/series-rss-child.ts', 'series-rss-child.mjs');
    const held = await child(script, [dir]);
    const bare = await child(script, [dir, '--bare']);
    const rssMB = Number(held.rssBytes) / MIB;
    const batch = modes.batch as { ratioToRaw: number };
    const result = {
      bench: 'series',
      node: process.version,
      dataBytesPerEntry: DATA_BYTES,
      disk: tmpdir(),
      batchWindowMs: WINDOW_MS ?? DEFAULT_BATCH_WINDOW_MS,
      loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
      cpus: cpus().length,
      modes,
      closedLoop: { writers: CLOSED_WRITERS, ...closed },
      open64MiB: {
        series: report,
        inProcessMs: { median: Number(opens[1]!.toFixed(1)), min: Number(opens[0]!.toFixed(1)) },
        childOpenMs: Number(Number(held.openMs).toFixed(1)),
      },
      rss: {
        holding64MiBSeriesMB: Number(rssMB.toFixed(1)),
        bareProcessMB: Number((Number(bare.rssBytes) / MIB).toFixed(1)),
        heapUsedMB: Number((Number(held.heapUsedBytes) / MIB).toFixed(1)),
      },
      targets: {
        batchRatioAtLeast0_5: batch.ratioToRaw >= 0.5,
        open64MiBAtMost1s: Number(held.openMs) <= 1000 && opens[1]! <= 1000,
        rssAtMost80MB: rssMB <= 80,
      },
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();

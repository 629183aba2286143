/**
 * A whole series pushed to K bt nodes by `pushSeries` (cut in one pass, pushed with a window), one
 * chunk at a time and with the default window, next to raw mqtt.js publishing as many chunks of the
 * same mean size to K acking subscribers one at a time (`rawPush`), in the same run; then pulled
 * back into a folder by another node (`pull`: want_chunks, each chunk fetched, verified, written).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ChunksService, ChunksServiceOptions } from '../../../src/chunks/index.js';
import { DEFAULT_PUSH_WINDOW } from '../../../src/chunks/index.js';
import type { DamesoNode } from '../../../src/node.js';
import { rawPush } from './baselines.js';

export interface SeriesPushDeps {
  brokerUrl: string;
  k: number;
  /** Starts a node with no role and these chunk options (the bench's own `start`). */
  start(id: string, chunks: ChunksServiceOptions): Promise<{ node: DamesoNode; chunks: ChunksService }>;
}

const r2 = (x: number) => Math.round(x * 100) / 100;
const MB = 1024 * 1024;

/** Fills a node's series with about `mib` MiB of ~100-byte entries. */
async function fill(node: DamesoNode, mib: number): Promise<void> {
  const pad = 'x'.repeat(60);
  const n = Math.floor((mib * MB) / 110);
  for (let i = 0; i < n; i++) {
    node.series.record({ event: 'temp', i, pad });
    if (i % 5000 === 4999) await node.series.flush();
  }
  await node.series.flush();
}

/** Runs `fn` while sampling the process's RSS every 20 ms; the peak growth in MB. */
async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ value: T; peakGrowthMB: number }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    const value = await fn();
    return { value, peakGrowthMB: r2((Math.max(peak, process.memoryUsage().rss) - before) / MB) };
  } finally {
    clearInterval(sampler);
  }
}

export async function measureSeriesPush(deps: SeriesPushDeps, mib: number): Promise<Record<string, unknown>> {
  const runs: Record<string, { s: number; mb_per_s: number; chunks: number; peak_rss_growth_mb: number }> = {};
  let chunks = 0;
  let bytes = 0;
  for (const window of [1, DEFAULT_PUSH_WINDOW]) {
    const { node, chunks: service } = await deps.start(`series-pusher-w${window}`, { pushWindow: window });
    await fill(node, mib);
    const t0 = performance.now();
    const { value: res, peakGrowthMB } = await withPeakRss(() => service.pushSeries());
    const s = (performance.now() - t0) / 1000;
    if (!res.chunks.every((c) => c.met)) throw new Error(`series push with window ${window} fell short of K`);
    chunks = res.chunks.length;
    bytes = res.chunks.reduce((n, c) => n + c.size, 0);
    runs[`window_${window}`] = { s: r2(s), mb_per_s: r2(bytes / MB / s), chunks, peak_rss_growth_mb: peakGrowthMB };
  }
  // Pulled back by a node that tracks no have records (as `dameso chunks pull` runs).
  const { chunks: reader } = await deps.start('series-reader', { track: false });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dameso-bench-pull-'));
  const p0 = performance.now();
  const pulled = await reader.pull({ node: `series-pusher-w${DEFAULT_PUSH_WINDOW}` }, dir);
  const pullS = (performance.now() - p0) / 1000;
  await rm(dir, { recursive: true, force: true });
  if (pulled.fetched.length !== chunks) throw new Error(`pull got ${pulled.fetched.length} of ${chunks} chunks`);
  const mean = Math.round(bytes / chunks);
  const t0 = performance.now();
  await rawPush(deps.brokerUrl, new Uint8Array(mean), deps.k, chunks);
  const rawS = (performance.now() - t0) / 1000;
  const best = runs[`window_${DEFAULT_PUSH_WINDOW}`]!;
  return {
    series_mib: mib,
    chunks,
    chunk_bytes_mean: mean,
    ...runs,
    raw_publish_to_k_one_at_a_time: { s: r2(rawS), mb_per_s: r2(bytes / MB / rawS) },
    // Includes the want_chunks round (closed when every bt node answered) and two fsyncs per file.
    pull: { s: r2(pullS), mb_per_s: r2(bytes / MB / pullS), chunks: pulled.fetched.length },
    ratio_window_vs_raw: r2(best.mb_per_s / (bytes / MB / rawS)),
    cpus: os.cpus().length,
  };
}

/**
 * Wear: the series writer counts the bytes it writes and the syncs it asks for; status turns them
 * into per-hour rates and, with the board's write budget, the years it lasts. Real series on real
 * files; the hour is a clock whose monotonic time the test moves (not a sleep).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type BrokerHost, createBrokerHost } from '../../broker/index.js';
import { loadBoard } from '../../devices/boards/index.js';
import { type Clock, systemClock } from '../../src/clock.js';
import { serveNodeMetrics } from '../../src/metrics/cli.js';
import type { MetricsServer } from '../../src/metrics/http.js';
import { createSeries, type Series } from '../../src/series/index.js';
import { type NodeStatus, statusLines, wearOf } from '../../src/status/index.js';
import { wearLine } from '../../src/status/wear.js';
import { wearOfSeries } from '../../src/status/wear-node.js';
import { NodePool } from '../helpers/node-fixtures.js';
import { withTmpDir } from '../helpers/series-tmp.js';
import { get } from '../metrics/scrape.js';

const HOUR_MS = 3_600_000;

test('wearOf: per hour over the span, each sync counted as a flash page, years of the budget', () => {
  const w = wearOf({ writtenBytes: 1_000_000, syncs: 100, sinceMs: 2 * HOUR_MS }, 4e12);
  expect(w.bytesPerHour).toBe(500_000);
  expect(w.syncsPerHour).toBe(50);
  const perHour = 500_000 + 50 * 16_384;
  expect(w.budgetYears).toBeCloseTo(4e12 / perHour / (24 * 365.25), 6);
  expect(wearLine(w, (b) => `${b} B`)).toBe(
    "written 500000 B/h, 50 syncs/h; at this rate the card's write budget (4 TB, estimate) lasts ~100+ years",
  );
  const busy = wearOf({ writtenBytes: 0, syncs: 3_600 * 100, sinceMs: HOUR_MS }, 4e12); // 100 syncs/s
  expect(wearLine(busy, String)).toMatch(/lasts ~0\.1 years$/);
});

test('wearOf: no rate in the first minute, no years without a budget', () => {
  expect(wearOf({ writtenBytes: 10, syncs: 1, sinceMs: 1_000 }, 4e12)).toMatchObject({
    bytesPerHour: null,
    budgetYears: null,
  });
  const w = wearOf({ writtenBytes: 10, syncs: 1, sinceMs: HOUR_MS }, undefined);
  expect(w).toMatchObject({ bytesPerHour: 10, budgetBytes: null, budgetYears: null });
  expect(wearLine(w, (b) => `${b} B`)).toBe('written 10 B/h, 1 syncs/h; no write budget in the board profile');
});

test('the series counts every byte it writes to its segment files and a sync per commit', async () => {
  await withTmpDir(async (dir) => {
    let skewMs = 0;
    const clock: Clock = { ...systemClock, monotonic: () => performance.now() + skewMs };
    const series: Series = createSeries({ dir, clock, durability: 'batch' });
    await series.open();
    const sizeOnDisk = async () => {
      let total = 0;
      for (const f of await readdir(dir)) if (f.endsWith('.seg')) total += (await stat(join(dir, f))).size;
      return total;
    };
    const before = await sizeOnDisk();
    for (let i = 0; i < 50; i++) await series.append({ event: 'x', i, data: 'y'.repeat(100) });
    await series.flush();
    const w0 = wearOfSeries(series, 'pi-4b').wear;
    expect(w0?.writtenBytes).toBe((await sizeOnDisk()) - before);
    expect(w0?.syncs).toBeGreaterThanOrEqual(1);
    expect(w0?.syncs).toBeLessThanOrEqual(50);
    skewMs = HOUR_MS; // an hour later, nothing more written
    const w = wearOfSeries(series, 'pi-4b').wear;
    expect(w?.budgetBytes).toBe(loadBoard('pi-4b').storage.writeBudgetBytes);
    // A little over an hour since the open: a little under the bytes written.
    expect(w?.bytesPerHour).toBeLessThanOrEqual(w0?.writtenBytes ?? 0);
    expect(w?.bytesPerHour).toBeGreaterThan((w0?.writtenBytes ?? 0) * 0.9);
    expect(w?.budgetYears).toBeGreaterThan(0);
    await series.close();
  });
});

describe('a running node', () => {
  let host: BrokerHost;
  let url: string;
  let pool: NodePool;
  let server: MetricsServer | undefined;
  beforeEach(async () => {
    host = createBrokerHost({ host: '127.0.0.1', port: 0 });
    url = (await host.start()).url;
    pool = new NodePool();
  });
  afterEach(async () => {
    await server?.close();
    await pool.cleanup();
    await host.stop();
  });

  test('/status has the wear, /metrics the counters, `dameso status` a wear row', async () => {
    const node = await pool.start(url, 'w1', { roles: ['bt'], device: 'pi-zero-2w', gate: undefined });
    server = await serveNodeMetrics(node, { port: 0, host: '127.0.0.1' });
    const base = server.url.replace(/\/metrics$/, '');
    await node.series.flush();
    const s = JSON.parse((await get(`${base}/status`)).body) as NodeStatus;
    expect(s.wear?.writtenBytes).toBeGreaterThan(0);
    expect(s.wear?.budgetBytes).toBe(4e12);
    expect(s.wear?.bytesPerHour).toBeNull(); // not a minute yet
    expect(statusLines(s).find((l) => l.startsWith('wear'))).toMatch(/^wear +written .* syncs since start/);
    const metrics = (await get(`${base}/metrics`)).body;
    expect(metrics).toMatch(/dameso_series_written_bytes_total\{node="w1"\} [1-9]/);
    expect(metrics).toMatch(/dameso_series_syncs_total\{node="w1"\} [1-9]/);
    expect(metrics).toContain('dameso_storage_write_budget_bytes{node="w1"} 4000000000000');
  });
});

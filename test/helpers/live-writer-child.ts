/**
 * A writer process for the live-reader tests: appends `observation` and `consensus` entries to
 * `<data>/series` (durability `batch`, small segments, a small ring budget so eviction happens)
 * and prints `durable <seq>` after each durable commit. Stops on SIGTERM (closes the series,
 * exit 0) or after `count` entries; with `hold`, it then keeps the series open (the lock held)
 * and prints `held` until SIGTERM.
 *
 * Usage: live-writer-child <data> <count> [hold]
 */
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { cellOf, consensusInput, observationInput, reputationView } from '../../src/observe/index.js';
import { createSeries } from '../../src/series/index.js';

const LIVE_SEGMENT_BYTES = 4096;
const LIVE_BUDGET_BYTES = 4 * LIVE_SEGMENT_BYTES;
/** Appends awaiting durability at once: enough for batches of several entries. */
const IN_FLIGHT = 4;
const PAD = 'x'.repeat(120);

const [data, countArg, hold] = process.argv.slice(2);
if (!data || !countArg) throw new Error('usage: live-writer-child <data> <count> [hold]');
const count = Number(countArg);
const line = (s: string): void => {
  writeSync(1, `${s}\n`);
};

const series = createSeries({
  dir: join(data, 'series'),
  durability: 'batch',
  segmentBytes: LIVE_SEGMENT_BYTES,
  budgetBytes: LIVE_BUDGET_BYTES,
  onDurable: (seq) => line(`durable ${seq}`),
});
await series.open();

let stopping = false;
let release: () => void = () => undefined;
const stopped = new Promise<void>((r) => {
  release = r;
});
process.on('SIGTERM', () => {
  stopping = true;
  release();
});

/** The i-th entry: an observation on even i, a consensus of three nodes on odd i. */
function entryAt(i: number) {
  const lat = 48.2 + (i % 7) * 0.002;
  const lon = 16.37 + (i % 5) * 0.002;
  if (i % 2 === 0) return { ...observationInput({ lat, lon, metric: 'temp', value: i % 40, fix: 1 }, 7), pad: PAD };
  const cell = cellOf(lat, lon, 7);
  const values = [
    { node: 'a', value: i % 40 },
    { node: 'b', value: (i % 40) + 1 },
    { node: 'c', value: i % 41 },
  ];
  return {
    ...consensusInput(cell, 'temp', values, reputationView.initial(), 0, { method: 'median', maxShare: 0.5 }),
    pad: PAD,
  };
}

const inFlight = new Set<Promise<unknown>>();
for (let i = 0; i < count && !stopping; i++) {
  const p = series.append(entryAt(i)).finally(() => inFlight.delete(p));
  inFlight.add(p);
  if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
}
await Promise.all(inFlight);
if (hold === 'hold' && !stopping) {
  line('held');
  const keepAlive = setInterval(() => undefined, 60_000); // a pending promise alone lets Node exit
  await stopped;
  clearInterval(keepAlive);
}
await series.close();

/**
 * What the process measures of itself: CPU share and event-loop delay (`cpu`), RSS and heap
 * (`memory`). These are properties of the PROCESS, not of a node: nodes sharing a process (the
 * field, fleet tests, the benchmarks) would each measure the very same figures on timers of their
 * own; nodes that start together keep their timers in step, so their samples come in bursts
 * (the p99 of an intent round; figures: docs/design-notes.md "CPU and memory are measured once per
 * process").
 * So each measurement runs once per window for the whole process and every node's limiter reads
 * the same sample against its own budgets. On a board (one node per process) nothing changes.
 *
 * A probe runs its timer while it has subscribers. On the real clock one probe per kind and window
 * is shared by the process (`loadProbe`, `memoryProbe`); on an injected clock each caller gets its
 * own, so tests keep their own time.
 */
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { type Clock, systemClock, type TimerHandle } from '../clock.js';
import { LOOP_DELAY_PERCENTILE } from './constants.js';

export interface Probe<T> {
  readonly everyMs: number;
  /** The last sample, if one was taken. */
  latest(): T | undefined;
  /** Measure now (closing the current window) and hand the sample to every subscriber. */
  sample(): T;
  /** Called with every sample; the probe measures while anyone is subscribed. Returns the unsubscribe. */
  subscribe(fn: (sample: T) => void): () => void;
}

/** One window of process load. */
export interface LoadSample {
  /** Process CPU (all threads) over the window, in cores. */
  cores: number;
  /** p90 of how late the loop's `resolution` ticks fired over the window, ms. */
  loopDelayP90Ms: number;
}

export interface MemorySample {
  rssBytes: number;
  heapUsedBytes: number;
}

/** What a probe measures with: opened at its first subscriber, closed after its last. */
interface Meter<T> {
  measure(): T;
  close(): void;
}

function createProbe<T>(clock: Clock, everyMs: number, open: () => Meter<T>): Probe<T> {
  const subscribers = new Set<(sample: T) => void>();
  let meter: Meter<T> | undefined;
  let timer: TimerHandle | undefined;
  let last: T | undefined;

  const sample = (): T => {
    const m = meter ?? open();
    const s = m.measure();
    if (meter === undefined) m.close(); // measured once without subscribers
    last = s;
    for (const fn of [...subscribers]) fn(s);
    return s;
  };

  return {
    everyMs,
    latest: () => last,
    sample,
    subscribe(fn) {
      subscribers.add(fn);
      if (meter === undefined) {
        meter = open();
        timer = clock.setInterval(sample, everyMs);
      }
      return () => {
        if (!subscribers.delete(fn) || subscribers.size > 0) return;
        clock.clearInterval(timer);
        timer = undefined;
        meter?.close();
        meter = undefined;
        last = undefined; // a sample from before a pause is no figure for after it
      };
    },
  };
}

function loadMeter(clock: Clock, resolutionMs: number): () => Meter<LoadSample> {
  return () => {
    const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: resolutionMs });
    histogram.enable();
    let lastUsage = process.cpuUsage();
    let lastAt = clock.monotonic();
    return {
      measure() {
        const now = clock.monotonic();
        const usage = process.cpuUsage(lastUsage);
        lastUsage = process.cpuUsage();
        const elapsedMs = Math.max(now - lastAt, 1e-3);
        lastAt = now;
        // The histogram records how late each `resolution` tick fired, in ns; subtract the tick itself.
        const p90 = histogram.count > 0 ? histogram.percentile(LOOP_DELAY_PERCENTILE) / 1e6 - resolutionMs : 0;
        histogram.reset();
        return { cores: (usage.user + usage.system) / 1000 / elapsedMs, loopDelayP90Ms: Math.max(0, p90) };
      },
      close: () => histogram.disable(),
    };
  };
}

function memoryMeter(): Meter<MemorySample> {
  return {
    measure() {
      const m = process.memoryUsage();
      return { rssBytes: m.rss, heapUsedBytes: m.heapUsed };
    },
    close: () => undefined,
  };
}

/** Probes shared by the process, on the real clock: at most one per kind and window. */
const shared = new Map<string, Probe<unknown>>();

function sharedOr<T>(clock: Clock, key: string, make: () => Probe<T>): Probe<T> {
  if (clock !== systemClock) return make();
  let p = shared.get(key) as Probe<T> | undefined;
  if (p === undefined) {
    p = make();
    shared.set(key, p as Probe<unknown>);
  }
  return p;
}

/** CPU share and loop delay, one window every `windowMs`. */
export function loadProbe(clock: Clock, windowMs: number, resolutionMs: number): Probe<LoadSample> {
  return sharedOr(clock, `load:${windowMs}:${resolutionMs}`, () =>
    createProbe(clock, windowMs, loadMeter(clock, resolutionMs)),
  );
}

/** RSS and heap, every `everyMs`. */
export function memoryProbe(clock: Clock, everyMs: number): Probe<MemorySample> {
  return sharedOr(clock, `memory:${everyMs}`, () => createProbe(clock, everyMs, memoryMeter));
}

import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock, systemClock } from '../../src/clock.js';
import { type CpuLimiter, createCpu } from '../../src/limiters/cpu.js';

let cpu: CpuLimiter | undefined;
let worker: Worker | undefined;
afterEach(async () => {
  cpu?.stop();
  await worker?.terminate();
  worker = undefined;
});

/** Resolve at the first sample satisfying `pred` (event-driven: no fixed sleeps). */
function untilSample(waiters: ((v: number) => void)[], pred: (v: number) => boolean): Promise<number> {
  return new Promise((resolve) => {
    const w = (v: number): void => {
      if (!pred(v)) return;
      waiters.splice(waiters.indexOf(w), 1);
      resolve(v);
    };
    waiters.push(w);
  });
}

describe('cpu', () => {
  it('a busy worker thread lowers it within a bounded time, and it recovers after', async () => {
    const waiters: ((v: number) => void)[] = [];
    cpu = createCpu({
      clock: systemClock,
      windowMs: 100,
      budgetCores: 1, // one busy core = 0
      loopDelayBudgetMs: 500,
      onSample: (v) => {
        for (const w of [...waiters]) w(v);
      },
    });
    cpu.start();
    // Idle first: the process is near 0 cores (the test waits for it, it does not assume it).
    await untilSample(waiters, (v) => v > 0.5);
    worker = new Worker(new URL('./burner.worker.mjs', import.meta.url));
    await new Promise((r) => worker!.once('message', r));
    const busy = await untilSample(waiters, (v) => v < 0.3); // bounded by the test timeout
    expect(busy).toBeLessThan(0.3);
    expect(cpu.detail().cpuCores).toBeGreaterThan(0.5);
    worker.postMessage('stop');
    await new Promise((r) => worker!.once('exit', r));
    worker = undefined;
    const calm = await untilSample(waiters, (v) => v > 0.5);
    expect(calm).toBeGreaterThan(0.5);
  }, 20_000);

  it('sustained event-loop lag (sync work on the main thread) lowers it through the loop delay', async () => {
    const waiters: ((v: number) => void)[] = [];
    cpu = createCpu({
      clock: systemClock,
      windowMs: 200,
      budgetCores: 64, // CPU share out of reach: only the loop delay can lower it here
      loopDelayBudgetMs: 50,
      onSample: (v) => {
        for (const w of [...waiters]) w(v);
      },
    });
    cpu.start();
    let lagging = true;
    const lagged = untilSample(waiters, (v) => v < 0.5);
    void lagged.then(() => {
      lagging = false;
    });
    // Block the loop ~40 ms at a time, yielding only briefly, until a window reports the lag.
    while (lagging) {
      const end = performance.now() + 40;
      while (performance.now() < end) {
        // spin
      }
      await new Promise((r) => setImmediate(r));
    }
    expect(await lagged).toBeLessThan(0.5);
    expect(cpu.detail().loopDelayP90Ms).toBeGreaterThan(25);
    expect(await untilSample(waiters, (v) => v > 0.5)).toBeGreaterThan(0.5); // recovers once idle
  }, 20_000);

  it('is 1 before the first window and samples only on its timer', () => {
    const clock = createManualClock();
    cpu = createCpu({ clock, windowMs: 100 });
    expect(cpu.value()).toBe(1);
    expect(clock.pendingTimers()).toBe(0);
    cpu.start();
    expect(clock.pendingTimers()).toBe(1);
    cpu.stop();
    expect(clock.pendingTimers()).toBe(0);
  });
});

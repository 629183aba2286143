import { describe, expect, it } from 'vitest';
import { createScryptGate } from '../../broker/scrypt-gate.js';
import { createManualClock } from '../../src/clock.js';

/** A check that resolves when told to, counting its runs. */
function deferredChecks() {
  const pending: Array<(ok: boolean) => void> = [];
  let runs = 0;
  return {
    check: () =>
      new Promise<boolean>((resolve) => {
        runs++;
        pending.push(resolve);
      }),
    settleNext: (ok: boolean) => pending.shift()?.(ok),
    get runs() {
      return runs;
    },
  };
}

describe('scrypt gate', () => {
  it('refuses an address after its failures in the window, without running the check; others pass; the window ends', async () => {
    const clock = createManualClock();
    const gate = createScryptGate({ failuresPerSource: 2, failureWindowMs: 60_000, clock });
    let runs = 0;
    const wrong = () => {
      runs++;
      return Promise.resolve(false);
    };
    expect(await gate.admit('10.0.0.9', wrong)).toBe(false);
    expect(await gate.admit('10.0.0.9', wrong)).toBe(false);
    expect(await gate.admit('10.0.0.9', wrong)).toBe('throttled');
    expect(await gate.admit('10.0.0.9', () => Promise.resolve(true))).toBe('throttled');
    expect(runs).toBe(2);
    expect(await gate.admit('10.0.0.7', () => Promise.resolve(true))).toBe(true);
    clock.advance(59_999);
    expect(await gate.admit('10.0.0.9', wrong)).toBe('throttled');
    clock.advance(1);
    expect(await gate.admit('10.0.0.9', () => Promise.resolve(true))).toBe(true);
    expect(gate.stats()).toMatchObject({ runs: 4, running: 0, waiting: 0 });
  });

  it('runs at most maxRunning at once, queues maxWaiting, refuses the rest as busy at once', async () => {
    const gate = createScryptGate({ maxRunning: 1, maxWaiting: 1 });
    const d = deferredChecks();
    const first = gate.admit('a', d.check);
    const second = gate.admit('b', d.check);
    expect(await gate.admit('c', d.check)).toBe('busy');
    await Promise.resolve();
    expect(d.runs).toBe(1);
    expect(gate.stats()).toMatchObject({ running: 1, waiting: 1 });
    d.settleNext(true);
    expect(await first).toBe(true);
    // The freed slot went to the waiter.
    await new Promise((r) => setImmediate(r));
    expect(d.runs).toBe(2);
    d.settleNext(false);
    expect(await second).toBe(false);
    expect(gate.stats()).toMatchObject({ running: 0, waiting: 0, runs: 2 });
  });

  it('a waiter from an address that got throttled meanwhile is refused when its turn comes', async () => {
    const gate = createScryptGate({ maxRunning: 1, maxWaiting: 4, failuresPerSource: 1 });
    const d = deferredChecks();
    const first = gate.admit('x', d.check);
    const second = gate.admit('x', d.check);
    await Promise.resolve();
    d.settleNext(false);
    expect(await first).toBe(false);
    expect(await second).toBe('throttled');
    expect(d.runs).toBe(1);
  });

  it('remembers a bounded number of addresses, forgetting the oldest', async () => {
    const gate = createScryptGate({ failuresPerSource: 1, maxSources: 2 });
    for (const a of ['a', 'b', 'c']) await gate.admit(a, () => Promise.resolve(false));
    expect(gate.stats().sources).toBe(2);
    expect(await gate.admit('a', () => Promise.resolve(true))).toBe(true); // forgotten
    expect(await gate.admit('c', () => Promise.resolve(true))).toBe('throttled');
  });
});

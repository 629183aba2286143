import { describe, expect, it } from 'vitest';
import { createManualClock, systemClock } from '../../src/clock.js';
import { createCpu } from '../../src/limiters/cpu.js';
import { createMemory } from '../../src/limiters/memory.js';
import { loadProbe, memoryProbe } from '../../src/limiters/process-probe.js';

describe('process probe', () => {
  it('on the real clock, one probe per window serves every node: one measurement, each limiter its own budget', () => {
    expect(loadProbe(systemClock, 321, 10)).toBe(loadProbe(systemClock, 321, 10));
    expect(loadProbe(systemClock, 321, 10)).not.toBe(loadProbe(systemClock, 322, 10));
    const seen: number[] = [];
    const tight = createCpu({ clock: systemClock, windowMs: 321, budgetCores: 0.001, onSample: (v) => seen.push(v) });
    const loose = createCpu({ clock: systemClock, windowMs: 321, budgetCores: 1000, onSample: (v) => seen.push(v) });
    tight.start();
    loose.start();
    const end = performance.now() + 20;
    while (performance.now() < end) {
      // some CPU in this window
    }
    tight.sample(); // closes the shared window: both limiters hear the same sample
    expect(seen).toHaveLength(2);
    expect(tight.detail().cpuCores).toBe(loose.detail().cpuCores);
    expect(tight.value()).toBe(0); // any CPU at all is over a 0.001-core budget
    expect(loose.value()).toBeGreaterThan(0.9);
    tight.stop();
    loose.stop();
  });

  it('on an injected clock each limiter has its own probe, timed on that clock, stopped with its last subscriber', () => {
    const clock = createManualClock();
    const a = createMemory({ clock, rssBudgetBytes: 1e12 });
    const b = createMemory({ clock, rssBudgetBytes: 1e12 });
    expect(memoryProbe(clock, 500)).not.toBe(memoryProbe(clock, 500));
    a.start();
    b.start();
    expect(clock.pendingTimers()).toBe(2);
    expect(a.detail().rssBytes).toBeGreaterThan(0); // sampled at start
    a.stop();
    b.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a probe measures only while subscribed, and forgets its last sample when it stops', () => {
    const clock = createManualClock();
    const p = memoryProbe(clock, 100);
    const got: number[] = [];
    const off = p.subscribe((s) => got.push(s.rssBytes));
    clock.advance(250);
    expect(got).toHaveLength(2);
    expect(p.latest()?.rssBytes).toBe(got[1]);
    off();
    clock.advance(500);
    expect(got).toHaveLength(2);
    expect(p.latest()).toBeUndefined();
  });
});

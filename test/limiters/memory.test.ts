import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { createMemory } from '../../src/limiters/memory.js';

describe('memory', () => {
  it('real allocations lower it against the RSS budget', () => {
    const clock = createManualClock();
    const base = process.memoryUsage().rss;
    const mem = createMemory({ clock, rssBudgetBytes: base + 256 * 1024 * 1024 });
    mem.start();
    const before = mem.sample();
    const hold: Buffer[] = [];
    for (let i = 0; i < 16; i++) hold.push(Buffer.alloc(8 * 1024 * 1024, i + 1)); // 128 MiB touched
    const after = mem.sample();
    expect(hold.length).toBe(16);
    expect(after).toBeLessThan(before - 0.1); // 128 MiB of a (base + 256 MiB) budget
    expect(mem.detail().rssBytes).toBeGreaterThan(base + 100 * 1024 * 1024);
    mem.stop();
  });

  it('the heap budget binds when it is the tighter one', () => {
    const clock = createManualClock();
    const used = process.memoryUsage().heapUsed;
    const mem = createMemory({ clock, rssBudgetBytes: 1e12, heapLimitBytes: used });
    mem.start();
    expect(mem.value()).toBeLessThan(0.05);
    mem.stop();
  });
});

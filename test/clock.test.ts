import { describe, expect, it } from 'vitest';
import { createManualClock } from '../src/clock.js';

describe('manual clock', () => {
  it('fires timers in due order only when advanced', () => {
    const clock = createManualClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 20);
    clock.setTimeout(() => fired.push('a'), 10);
    const cancelled = clock.setTimeout(() => fired.push('never'), 15);
    clock.clearTimeout(cancelled);
    clock.advance(9);
    expect(fired).toEqual([]);
    clock.advance(11);
    expect(fired).toEqual(['a', 'b']);
    expect(clock.monotonic()).toBe(20);
    expect(clock.now()).toBe(1020);
  });

  it('repeats intervals and lets the wall clock jump without moving monotonic time', () => {
    const clock = createManualClock(5000);
    let ticks = 0;
    const h = clock.setInterval(() => ticks++, 10);
    clock.advance(35);
    expect(ticks).toBe(3);
    clock.setWall(100);
    expect(clock.now()).toBe(100);
    expect(clock.monotonic()).toBe(35);
    clock.clearInterval(h);
    clock.advance(100);
    expect(ticks).toBe(3);
    expect(clock.pendingTimers()).toBe(0);
  });
});

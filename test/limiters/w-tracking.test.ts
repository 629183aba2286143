import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { ConfigError } from '../../src/errors.js';
import { createWTracking } from '../../src/limiters/w-tracking.js';

describe('w_tracking', () => {
  it('counts intents in the sliding window and forgets them after it', () => {
    const clock = createManualClock();
    const w = createWTracking({ clock, capacity: 100, windowMs: 1000, buckets: 10 });
    expect(w.value()).toBe(1);
    for (let i = 0; i < 50; i++) w.record();
    expect(w.count()).toBe(50);
    expect(w.value()).toBeCloseTo(0.5);
    clock.advance(500);
    for (let i = 0; i < 30; i++) w.record();
    expect(w.count()).toBe(80);
    clock.advance(500); // the first 50 leave the window
    expect(w.count()).toBe(30);
    clock.advance(500);
    expect(w.count()).toBe(0);
    expect(w.value()).toBe(1);
  });

  it('clamps at 0 beyond capacity and memory stays the fixed ring', () => {
    const clock = createManualClock();
    const w = createWTracking({ clock, capacity: 10, windowMs: 1000, buckets: 4 });
    for (let i = 0; i < 100_000; i++) {
      w.record();
      if (i % 1000 === 0) clock.advance(7);
    }
    expect(w.value()).toBe(0);
    expect(w.buckets).toBe(4);
    expect(w.detail()).toMatchObject({ buckets: 4, capacity: 10 });
  });

  it('a long jump of monotonic time clears the whole ring at bounded cost', () => {
    const clock = createManualClock();
    const w = createWTracking({ clock, capacity: 10, windowMs: 1000, buckets: 10 });
    for (let i = 0; i < 20; i++) w.record();
    clock.advance(1e9);
    expect(w.count()).toBe(0);
  });

  it('msUntilBelow says when the window will have room again', () => {
    const clock = createManualClock();
    const w = createWTracking({ clock, capacity: 100, windowMs: 1000, buckets: 10 });
    for (let i = 0; i < 60; i++) w.record(); // bucket 0
    clock.advance(300);
    for (let i = 0; i < 30; i++) w.record(); // bucket 3
    expect(w.msUntilBelow(0.7)).toBe(700); // the first 60 leave at t=1000
    clock.advance(w.msUntilBelow(0.7));
    expect(w.count()).toBeLessThan(70);
    expect(w.msUntilBelow(0.7)).toBe(0);
  });

  it('rejects a bad capacity with the key to fix', () => {
    expect(() => createWTracking({ clock: createManualClock(), capacity: 0 })).toThrow(ConfigError);
    expect(() => createWTracking({ clock: createManualClock(), capacity: 0 })).toThrow(/intents\.capacityPerWindow/);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { DEFAULT_THRESHOLDS, decide, resolveThresholds } from '../../src/limiters/policy.js';
import type { LimiterValues } from '../../src/protocol/types.js';

const plenty: LimiterValues = { economic: 1, cpu: 1, memory: 1, w_tracking: 1, objective: 1, topology: 1 };
const v = (o: Partial<LimiterValues>): LimiterValues => ({ ...plenty, ...o });

describe('decide (the paradigm default, extended)', () => {
  it('documents the paradigm defaults', () => {
    expect(DEFAULT_THRESHOLDS).toEqual({
      yesAbove: 0.7,
      storageFullBelow: 0.2,
      memoryLowBelow: 0.15,
      rateLimitedBelow: 0.3,
      cpuBusyBelow: 0.2,
    });
  });

  it('all above 0.7 → YES; exactly 0.7 leaves the fast path but still YES', () => {
    expect(decide(plenty)).toEqual({ r: 'yes' });
    expect(decide(v({ objective: 0.7 }))).toEqual({ r: 'yes' });
  });

  it('economic < 0.2 → storage_full, with no retry hint (waiting does not help)', () => {
    expect(decide(v({ economic: 0.19 }), DEFAULT_THRESHOLDS, { rateLimitedMs: 5, cpuBusyMs: 5 })).toEqual({
      r: 'no',
      reason: 'storage_full',
    });
    expect(decide(v({ economic: 0.2 }))).toEqual({ r: 'yes' });
  });

  it('w_tracking < 0.3 → rate_limited with the retry hint rounded up', () => {
    expect(decide(v({ w_tracking: 0.29 }), DEFAULT_THRESHOLDS, { rateLimitedMs: 1234.2 })).toEqual({
      r: 'no',
      reason: 'rate_limited',
      retry: 1235,
    });
  });

  it('cpu and memory extensions', () => {
    expect(decide(v({ cpu: 0.1 }), DEFAULT_THRESHOLDS, { cpuBusyMs: 500 })).toEqual({
      r: 'no',
      reason: 'cpu_busy',
      retry: 500,
    });
    expect(decide(v({ memory: 0.1 }))).toEqual({ r: 'no', reason: 'memory_low' });
  });

  it('order: storage_full, memory_low, rate_limited, cpu_busy', () => {
    const all = v({ economic: 0, memory: 0, w_tracking: 0, cpu: 0 });
    expect(decide(all)).toMatchObject({ reason: 'storage_full' });
    expect(decide({ ...all, economic: 1 })).toMatchObject({ reason: 'memory_low' });
    expect(decide({ ...all, economic: 1, memory: 1 })).toMatchObject({ reason: 'rate_limited' });
    expect(decide({ ...all, economic: 1, memory: 1, w_tracking: 1 })).toMatchObject({ reason: 'cpu_busy' });
  });

  it('objective and topology never refuse on their own', () => {
    expect(decide(v({ objective: 0, topology: 0 }))).toEqual({ r: 'yes' });
  });

  it('thresholds are configurable', () => {
    const t = resolveThresholds({ rateLimitedBelow: 0.6 });
    expect(decide(v({ w_tracking: 0.5 }), t)).toMatchObject({ reason: 'rate_limited' });
    expect(decide(v({ w_tracking: 0.5 }))).toEqual({ r: 'yes' });
  });

  it('bad thresholds are a ConfigError naming the key', () => {
    expect(() => resolveThresholds({ cpuBusyBelow: 1.5 })).toThrow(ConfigError);
    expect(() => resolveThresholds({ cpuBusyBelow: Number.NaN })).toThrow(/thresholds\.cpuBusyBelow/);
    // a NO threshold above yesAbove would be shadowed by the fast path: refused
    expect(() => resolveThresholds({ rateLimitedBelow: 0.9 })).toThrow(/thresholds\.rateLimitedBelow/);
  });

  it('property: NO only when a watched value is under its threshold; deterministic', () => {
    const unit = fc.double({ min: 0, max: 1, noNaN: true });
    fc.assert(
      fc.property(
        fc.record({ economic: unit, cpu: unit, memory: unit, w_tracking: unit, objective: unit, topology: unit }),
        (lim) => {
          const a = decide(lim);
          expect(decide(lim)).toEqual(a);
          if (a.r === 'no') {
            const t = DEFAULT_THRESHOLDS;
            const under = {
              storage_full: lim.economic < t.storageFullBelow,
              memory_low: lim.memory < t.memoryLowBelow,
              rate_limited: lim.w_tracking < t.rateLimitedBelow,
              cpu_busy: lim.cpu < t.cpuBusyBelow,
            } as Record<string, boolean>;
            expect(under[a.reason]).toBe(true);
          } else {
            expect(lim.economic >= 0.2 && lim.memory >= 0.15 && lim.w_tracking >= 0.3 && lim.cpu >= 0.2).toBe(true);
          }
        },
      ),
    );
  });
});

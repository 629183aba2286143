import { describe, expect, it } from 'vitest';
import {
  createPrng,
  createSimulatedSensor,
  type Reading,
  SensorOptionError,
  smoothField,
} from '../../../devices/sensors/index.js';
import { createManualClock } from '../../../src/clock.js';

describe('simulated sensor', () => {
  const field = smoothField({ base: 20, amplitude: 5, wavelengthDeg: 0.01 });
  const at = { lat: 48.0025, lon: 16.001 };

  it('reads ground truth plus seeded gaussian noise: same seed, same readings', () => {
    const a = createSimulatedSensor({ field, position: at, seed: 7 });
    const b = createSimulatedSensor({ field, position: at, seed: 7 });
    const c = createSimulatedSensor({ field, position: at, seed: 8 });
    const xs = Array.from({ length: 5 }, () => a.sample());
    expect(Array.from({ length: 5 }, () => b.sample())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.sample())).not.toEqual(xs);
  });

  it('noise has the requested sd and zero mean; bias shifts the mean (a liar)', () => {
    const truth = field(at.lat, at.lon);
    const honest = createSimulatedSensor({ field, position: at, noiseSigma: 2, seed: 1 });
    const liar = createSimulatedSensor({ field, position: at, noiseSigma: 2, bias: 10, seed: 2 });
    const n = 4000;
    const hs = Array.from({ length: n }, () => honest.sample() - truth);
    const ls = Array.from({ length: n }, () => liar.sample() - truth);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
    expect(Math.abs(mean(hs))).toBeLessThan(0.15);
    expect(sd(hs)).toBeGreaterThan(1.9);
    expect(sd(hs)).toBeLessThan(2.1);
    expect(mean(ls)).toBeGreaterThan(9.85);
    expect(mean(ls)).toBeLessThan(10.15);
  });

  it('runs on the injected clock: a fix (quality 8) then a value per interval, none after stop', async () => {
    const clock = createManualClock(5_000);
    const s = createSimulatedSensor({ field, position: at, intervalMs: 1000, noiseSigma: 0, clock, metric: 'temp' });
    const got: Reading[] = [];
    s.onReading((r) => got.push(r));
    s.start();
    clock.advance(3000);
    await s.stop();
    clock.advance(3000);
    expect(got).toHaveLength(6);
    expect(got[0]).toMatchObject({ kind: 'fix', quality: 8, lat: at.lat, lon: at.lon, t: 6_000 });
    expect(got[1]).toEqual({ kind: 'value', metric: 'temp', value: field(at.lat, at.lon), t: 6_000 });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('rejects bad options with a typed error', () => {
    expect(() => createSimulatedSensor({ field, position: at, noiseSigma: -1 })).toThrow(SensorOptionError);
    expect(() => createSimulatedSensor({ field, position: at, intervalMs: 0 })).toThrow(SensorOptionError);
  });

  it('the PRNG is uniform enough in [0,1)', () => {
    const p = createPrng(42);
    const xs = Array.from({ length: 10_000 }, () => p.next());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5)).toBeLessThan(0.01);
  });
});

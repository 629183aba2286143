import { describe, expect, it } from 'vitest';
import { createAdmission, sourceKey, WarnedOnce } from '../../broker/admission.js';
import { parseFdLimit } from '../../broker/fd-limit.js';
import { systemClock } from '../../src/clock.js';

describe('connection admission', () => {
  it('refuses over the per-address limit, then over the total; a release frees its place', () => {
    const a = createAdmission({ maxConnections: 3, maxPerSource: 2 });
    expect(a.admit('10.0.0.1')).toBeUndefined();
    expect(a.admit('::ffff:10.0.0.1')).toBeUndefined(); // the same address, IPv4-mapped
    expect(a.admit('10.0.0.1')).toBe('max_connections_per_ip');
    expect(a.admit('10.0.0.2')).toBeUndefined();
    expect(a.admit('10.0.0.3')).toBe('max_connections');
    a.release('10.0.0.1');
    expect(a.open).toBe(2);
    expect(a.admit('10.0.0.3')).toBeUndefined();
    a.release('10.0.0.9'); // never admitted: nothing changes
    expect(a.open).toBe(3);
    for (const r of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) a.release(r);
    expect({ open: a.open, sources: a.sources }).toEqual({ open: 0, sources: 0 });
  });

  it('refuses an address cooling down until its cool-down ends, in a table bounded by maxCooling', () => {
    let now = 0;
    const clock = { ...systemClock, monotonic: () => now };
    const a = createAdmission({ maxConnections: 10, maxPerSource: 10, coolDownMs: 1000, maxCooling: 2, clock });
    a.coolDown('10.0.0.1');
    expect(a.admit('::ffff:10.0.0.1')).toBe('cooling_down');
    expect(a.admit('10.0.0.2')).toBeUndefined();
    now = 999;
    expect(a.admit('10.0.0.1')).toBe('cooling_down');
    now = 1000;
    expect(a.admit('10.0.0.1')).toBeUndefined();
    expect(a.cooling).toBe(0);
    for (const r of ['10.0.0.3', '10.0.0.4', '10.0.0.5']) a.coolDown(r);
    expect(a.cooling).toBe(2);
    expect(a.admit('10.0.0.3')).toBeUndefined(); // the oldest, forgotten
    expect(a.admit('10.0.0.5')).toBe('cooling_down');
  });

  it('counts an IPv6 host by its /64', () => {
    expect(sourceKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
    expect(sourceKey('192.168.1.7')).toBe('192.168.1.7');
    expect(sourceKey(undefined)).toBe('?');
  });

  it('warns once per address, forgetting the least recently warned beyond its capacity', () => {
    const w = new WarnedOnce(2);
    expect([w.first('a'), w.first('a'), w.first('b'), w.first('a')]).toEqual([true, false, true, false]);
    expect(w.first('c')).toBe(true); // evicts b, the least recently seen
    expect([w.first('a'), w.first('b')]).toEqual([false, true]);
    expect(w.size).toBe(2);
  });
});

describe('descriptor limit', () => {
  it('reads the Max open files line of /proc/PID/limits', () => {
    const text =
      'Max processes             63457                63457                processes\nMax open files            1024                 524288               files\n';
    expect(parseFdLimit(text)).toEqual({ soft: 1024, hard: 524288 });
    expect(parseFdLimit('Max open files            4096                 unlimited            files')).toEqual({
      soft: 4096,
      hard: Number.POSITIVE_INFINITY,
    });
    expect(parseFdLimit('nothing here')).toBeUndefined();
  });
});

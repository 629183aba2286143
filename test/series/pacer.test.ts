import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import {
  AWAITED_RUN,
  createSeries,
  createSyncPacer,
  devicePacers,
  type PacedMember,
  type Series,
} from '../../src/series/index.js';
import { withTmpDir } from '../helpers/series-tmp.js';

const microtasks = () => new Promise<void>((r) => setImmediate(r));

/** A member that records the monotonic time of each grant. */
function member(clock: { monotonic(): number }, grants: number[]): PacedMember {
  return { grant: () => grants.push(clock.monotonic()) };
}

describe('sync pacer', () => {
  it('grants a lone member at once, then no sooner than one interval after the last start', async () => {
    const clock = createManualClock();
    const pacer = createSyncPacer({ intervalMs: 10, clock });
    const grants: number[] = [];
    const m = member(clock, grants);
    pacer.request(m);
    pacer.request(m); // queued once
    expect(grants).toEqual([]); // in a microtask, so the appends of this turn join
    await microtasks();
    expect(grants).toEqual([0]);
    clock.advance(3);
    pacer.request(m);
    await microtasks();
    expect(grants).toEqual([0]);
    clock.advance(6);
    expect(grants).toEqual([0]);
    clock.advance(1);
    expect(grants).toEqual([0, 10]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('gives S waiting members one turn each, FIFO, an interval apart: each waits at most S intervals', async () => {
    const clock = createManualClock();
    const pacer = createSyncPacer({ intervalMs: 10, clock });
    const S = 5;
    const grants = Array.from({ length: S }, () => [] as number[]);
    const members = grants.map((g) => member(clock, g));
    for (const m of members) pacer.request(m);
    expect(pacer.waiting()).toBe(S);
    await microtasks();
    clock.advance(S * 10);
    expect(grants.map((g) => g[0])).toEqual([0, 10, 20, 30, 40]);
    expect(pacer.waiting()).toBe(0);
    // Everyone asks again right after its turn: still one turn per interval, in the same order.
    for (const m of members) pacer.request(m);
    await microtasks(); // the last start was at 40: the first turn is due at once
    clock.advance((S - 1) * 10);
    expect(grants.map((g) => g[1])).toEqual([50, 60, 70, 80, 90]);
  });

  it('counts a start outside the turns (flush, full batch) and forgets cancelled members', async () => {
    const clock = createManualClock();
    const pacer = createSyncPacer({ intervalMs: 10, clock });
    const a: number[] = [];
    const b: number[] = [];
    pacer.started(); // e.g. a flush at 0
    pacer.request(member(clock, a));
    const mb = member(clock, b);
    pacer.request(mb);
    await microtasks();
    expect(a).toEqual([]);
    pacer.cancel(mb);
    clock.advance(10);
    expect(a).toEqual([10]);
    clock.advance(50);
    expect(b).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('awaited series go first, at most AWAITED_RUN in a row while background ones wait; a queued series can be upgraded', async () => {
    const clock = createManualClock();
    const pacer = createSyncPacer({ intervalMs: 10, clock });
    const order: string[] = [];
    const m = (name: string): PacedMember => ({ grant: () => order.push(name) });
    const bg = ['b1', 'b2', 'b3', 'b4'].map(m);
    for (const b of bg) pacer.request(b); // background: nobody awaits their records
    const a1 = m('a1');
    const a2 = m('a2');
    const a3 = m('a3');
    pacer.request(a1, true);
    pacer.request(a2, true);
    pacer.request(bg[3]!, true); // b4: an append is now awaited there
    pacer.request(a3, true);
    pacer.request(a1); // asking again as background keeps it awaited
    await microtasks();
    clock.advance(70);
    expect(AWAITED_RUN).toBe(3);
    expect(order).toEqual(['a1', 'a2', 'b4', 'b1', 'a3', 'b2', 'b3']);
    expect(pacer.waiting()).toBe(0);
  });

  it('with interval 0, grants every request in the next microtask', async () => {
    const clock = createManualClock();
    const pacer = createSyncPacer({ intervalMs: 0, clock });
    const grants: number[] = [];
    for (let i = 0; i < 3; i++) pacer.request(member(clock, grants));
    await microtasks();
    expect(grants).toEqual([0, 0, 0]);
  });
});

describe('series sharing a pacer', () => {
  it('take turns: two series appending in the same turn commit one window apart, both durable', async () => {
    await withTmpDir(async (dir) => {
      const clock = createManualClock();
      const syncPacer = createSyncPacer({ intervalMs: 10, clock });
      const a = createSeries({ dir: `${dir}/a`, durability: 'batch', clock, syncPacer });
      const b = createSeries({ dir: `${dir}/b`, durability: 'batch', clock, syncPacer });
      await a.open();
      await b.open();
      clock.advance(10); // past the opens' starts
      const pa = a.append({ event: 'x' });
      const pb = b.append({ event: 'y' });
      await pa; // a's turn comes at once
      expect(a.durableSeq).toBe(2);
      expect(b.durableSeq).toBe(1);
      await microtasks();
      expect(b.durableSeq).toBe(1); // b waits for the next turn
      clock.advance(10);
      await pb;
      expect(b.durableSeq).toBe(2);
      await a.close();
      await b.close();
    });
  });

  it('an awaited append is committed ahead of series that only hold records', async () => {
    await withTmpDir(async (dir) => {
      const clock = createManualClock();
      const syncPacer = createSyncPacer({ intervalMs: 10, clock });
      const series = ['a', 'b', 'c'].map((n) =>
        createSeries({ dir: `${dir}/${n}`, durability: 'batch', clock, syncPacer }),
      );
      for (const s of series) await s.open();
      const [a, b, c] = series as [Series, Series, Series];
      a.record({ event: 'r' }); // queued first, background
      b.record({ event: 'r' }); // queued second, background
      const awaited = c.append({ event: 'x' }); // queued last, but awaited
      clock.advance(10); // one turn
      await microtasks();
      await awaited;
      expect([a.durableSeq, b.durableSeq, c.durableSeq]).toEqual([1, 1, 2]);
      expect(syncPacer.waiting()).toBe(2); // a and b still wait for their turns
      clock.advance(20); // two more turns: a's, then b's
      expect(syncPacer.waiting()).toBe(0);
      // Their writes were handed to the disk; each flush waits for the commit already in flight.
      await a.flush();
      await b.flush();
      expect([a.durableSeq, b.durableSeq]).toEqual([2, 2]);
      for (const s of series) await s.close();
    });
  });

  it('flush does not wait for a turn', async () => {
    await withTmpDir(async (dir) => {
      const clock = createManualClock();
      const syncPacer = createSyncPacer({ intervalMs: 1000, clock });
      const s = createSeries({ dir, durability: 'batch', clock, syncPacer });
      await s.open();
      void s.append({ event: 'x' });
      await s.flush(); // the manual clock never moves: only a flush that skips the queue returns
      expect(s.durableSeq).toBe(2);
      expect(syncPacer.waiting()).toBe(0);
      await s.close();
    });
  });

  it('on the real clock, series on one device share one pacer, given back when they close', async () => {
    await withTmpDir(async (dir) => {
      const before = devicePacers();
      const a = createSeries({ dir: `${dir}/a`, durability: 'batch', batchWindowMs: 7 });
      const b = createSeries({ dir: `${dir}/b`, durability: 'batch', batchWindowMs: 7 });
      await a.open();
      await b.open();
      expect(devicePacers()).toBe(before + 1);
      await Promise.all([a.append({ event: 'x' }), b.append({ event: 'y' })]);
      expect([a.durableSeq, b.durableSeq]).toEqual([2, 2]);
      await a.close();
      expect(devicePacers()).toBe(before + 1);
      await b.close();
      expect(devicePacers()).toBe(before);
    });
  });
});

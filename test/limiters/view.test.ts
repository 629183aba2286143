import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LIMITER_CONFIG_EVENT, LIMITERS_VIEW } from '../../src/limiters/constants.js';
import { decide, resolveThresholds } from '../../src/limiters/policy.js';
import { replayDecisions, replaySeries } from '../../src/limiters/replay.js';
import { type LimiterTally, limitersView, RECENT_NO_KEPT } from '../../src/limiters/view.js';
import { createSeries } from '../../src/series/index.js';
import type { View } from '../../src/series/types.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dameso-limview-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const strict = resolveThresholds({ rateLimitedBelow: 0.5 });
const lim = (w: number) => ({ economic: 1, cpu: 1, memory: 1, w_tracking: w, objective: 1, topology: 1 });

describe('limiters view', () => {
  it("keeps the gate's frozen lim by reference and copies a caller's mutable one", () => {
    const shared = Object.freeze(lim(0.9));
    const mutable = lim(0.8);
    let t = limitersView.initial();
    t = limitersView.apply(t, { seq: 1, t: 0, event: 'decision', kind: 'want_chunk', r: 'yes', lim: shared });
    expect(t.last?.lim).toBe(shared);
    t = limitersView.apply(t, { seq: 2, t: 0, event: 'decision', kind: 'want_chunk', r: 'yes', lim: mutable });
    expect(t.last?.lim).toEqual(mutable);
    expect(t.last?.lim).not.toBe(mutable);
    mutable.w_tracking = 0.1;
    expect(t.last?.lim.w_tracking).toBe(0.8);
  });

  it('tallies decisions and keeps the thresholds in force across reopen and ring eviction', async () => {
    const open = () =>
      createSeries({
        dir,
        durability: 'none',
        segmentBytes: 16 * 1024,
        budgetBytes: 64 * 1024,
        views: [limitersView as View<unknown>],
      });
    const s = open();
    await s.open();
    await s.append({ event: LIMITER_CONFIG_EVENT, board: 'pi-4b', thresholds: { ...strict } });
    const pad = 'x'.repeat(200);
    for (let i = 0; i < 1000; i++) {
      const no = i % 4 === 0; // w_tracking 0.4: NO only under the stricter thresholds
      await s.append({
        event: 'decision',
        id: `i${i}`,
        kind: 'want_chunk',
        from: 'req',
        r: no ? 'no' : 'yes',
        ...(no ? { reason: 'rate_limited' } : {}),
        lim: lim(no ? 0.4 : 0.9),
        outcome: no ? 'no' : 'yes',
        pad,
      });
    }
    expect(s.stats().evictedSegments).toBeGreaterThan(0); // the config entry itself is gone from disk
    await s.close();

    const again = open();
    await again.open();
    const t = again.view<LimiterTally>(LIMITERS_VIEW);
    expect(t.decisions).toBe(1000);
    expect(t.yes).toBe(750);
    expect(t.no).toEqual({ rate_limited: 250 });
    expect(t.config?.board).toBe('pi-4b');
    expect(t.config?.thresholds).toEqual({ ...strict });
    expect(t.recentNo.length).toBe(RECENT_NO_KEPT);
    expect(t.last).toMatchObject({ r: 'yes', lim: lim(0.9) });
    let configOnDisk = 0;
    for await (const _ of again.read({ event: LIMITER_CONFIG_EVENT })) configOnDisk++;
    expect(configOnDisk).toBe(0);
    // Replay still uses the thresholds in force: the snapshot opening each kept segment carries them.
    expect(decide(lim(0.4)).r).toBe('yes'); // under the defaults these NOs would not replay
    const report = await replaySeries(again);
    expect(report.decisions).toBeGreaterThan(100);
    expect(report.limiterNo).toBeGreaterThan(20);
    expect(report.mismatches).toEqual([]);
    const noSnapshots = await replayDecisions(again.read({ event: ['decision'] }));
    expect(noSnapshots.mismatches.length).toBeGreaterThan(0);
    await again.close();
  });

  it('ignores entries without a valid lim', () => {
    const s0 = limitersView.initial();
    const s1 = limitersView.apply(s0, {
      seq: 1,
      t: 0,
      event: 'decision',
      r: 'no',
      reason: 'cpu_busy',
      lim: { cpu: 2 },
    });
    expect(s1).toEqual(s0);
  });
});

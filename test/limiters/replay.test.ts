import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LIMITER_CONFIG_EVENT } from '../../src/limiters/constants.js';
import { consumesStorage, DEFAULT_THRESHOLDS, decide, resolveThresholds } from '../../src/limiters/policy.js';
import { replayDecisions } from '../../src/limiters/replay.js';
import { roundValues } from '../../src/limiters/round.js';
import type { LimiterValues } from '../../src/protocol/types.js';
import { createSeries } from '../../src/series/index.js';
import type { Entry, EntryInput } from '../../src/series/types.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dameso-replay-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// integers over 10^4 steps: uniform in [0,1] (fc.double favours the edges)
const unit = fc.integer({ min: 0, max: 10_000 }).map((n) => n / 10_000);
const limArb = fc.record({
  economic: unit,
  cpu: unit,
  memory: unit,
  w_tracking: unit,
  objective: unit,
  topology: unit,
});

/** What the answer side writes for one gate decision (intent/answer.ts). */
function decisionEntry(i: number, lim: LimiterValues, thresholds = DEFAULT_THRESHOLDS): EntryInput {
  // Alternate a storage kind and a read: the storage check is per kind, and replay must follow it.
  const kind = i % 2 === 0 ? 'store_chunk' : 'want_chunk';
  const v = decide(lim, thresholds, {}, { storage: consumesStorage(kind) });
  const e: EntryInput = { event: 'decision', id: `i${i}`, kind, from: 'req', r: v.r, lim, outcome: v.r };
  if (v.r === 'no') e.reason = v.reason;
  return e;
}

async function readAll(): Promise<Entry[]> {
  const s = createSeries({ dir, durability: 'always', readOnly: true });
  await s.open();
  const out: Entry[] = [];
  for await (const e of s.read({ event: ['decision', LIMITER_CONFIG_EVENT] })) out.push(e);
  await s.close();
  return out;
}

describe('replayDecisions', () => {
  it('reproduces every recorded decision from a real series, across a threshold change', async () => {
    const lims = fc.sample(limArb, 400).map(roundValues);
    const stricter = resolveThresholds({ rateLimitedBelow: 0.6, storageFullBelow: 0.5 });
    const s = createSeries({ dir, durability: 'none' });
    await s.open();
    for (let i = 0; i < 200; i++) await s.append(decisionEntry(i, lims[i]!));
    await s.append({ event: LIMITER_CONFIG_EVENT, board: 'custom', thresholds: { ...stricter } });
    for (let i = 200; i < 400; i++) await s.append(decisionEntry(i, lims[i]!, stricter));
    await s.close();

    const entries = await readAll();
    const report = await replayDecisions(entries);
    expect(report.decisions).toBe(400);
    expect(report.mismatches).toEqual([]);
    expect(report.matched).toBe(400);
    expect(report.limiterNo).toBeGreaterThan(50);
    // without the limiter_config entry, the second half would not replay: the check can fail
    const withoutConfig = await replayDecisions(entries.filter((e) => e.event !== LIMITER_CONFIG_EVENT));
    expect(withoutConfig.mismatches.length).toBeGreaterThan(0);
  });

  it('flags a decision that the policy would not have made', async () => {
    const lim: LimiterValues = { economic: 0.1, cpu: 1, memory: 1, w_tracking: 1, objective: 1, topology: 1 };
    const forged: Entry = { seq: 7, t: 0, event: 'decision', r: 'no', reason: 'rate_limited', lim };
    const yesForged: Entry = { seq: 8, t: 0, event: 'decision', r: 'yes', lim };
    const report = await replayDecisions([forged, yesForged]);
    expect(report.matched).toBe(0);
    expect(report.mismatches.map((m) => m.replayed)).toEqual([
      { r: 'no', reason: 'storage_full' },
      { r: 'no', reason: 'storage_full' },
    ]);
  });

  it('a handler NO after a gate YES is not a mismatch for final-answer entries; malformed lim is counted', async () => {
    const lim: LimiterValues = { economic: 1, cpu: 1, memory: 1, w_tracking: 1, objective: 1, topology: 1 };
    const report = await replayDecisions([
      { seq: 1, t: 0, event: 'answered', r: 'no', reason: 'too_large', lim },
      { seq: 2, t: 0, event: 'decision', r: 'yes', lim: { economic: 2 } },
    ]);
    expect(report).toMatchObject({ decisions: 1, matched: 1, malformed: 1 });
  });
});

/**
 * A pure multi-round simulation: 20 mappers, 4 liars biased by +10. Each round the requester
 * computes consensus per cell with the reputation it has derived so far and writes a consensus
 * entry; the reputation view folds it. No network: the same logic the node runs, on plain entries.
 */
import { describe, expect, it } from 'vitest';
import {
  consensus,
  consensusInput,
  DEFAULT_MAX_WEIGHT_SHARE,
  replayConsensus,
  replayReputation,
  reputationOf,
  reputationView,
} from '../../src/observe/index.js';
import type { Entry } from '../../src/series/types.js';
import { createSimField } from '../helpers/observe-field.js';

describe('field of 20 mappers with 4 liars (+10)', () => {
  const field = createSimField({ mappers: 20, liars: 4, seed: 3 });
  const cells = field.cells(10);
  const entries: Entry[] = [];
  let rep = reputationView.initial();
  const append = (input: Record<string, unknown> & { event: string }): void => {
    const e = { ...input, seq: entries.length + 1, t: 1_700_000_000_000 + entries.length } as Entry;
    entries.push(e);
    rep = reputationView.apply(rep, e);
  };
  const errors: { round: number; median: number; mean: number }[] = [];
  const reputations: { liarsMax: number; honestMin: number }[] = [];
  for (let round = 1; round <= 6; round++) {
    let eMed = 0;
    let eMean = 0;
    for (const cell of cells) {
      const ps = field.perspectives(cell);
      const truth = field.truth(cell);
      const input = consensusInput(cell, 'temp', ps, rep, entries.length, {
        method: 'median',
        maxShare: DEFAULT_MAX_WEIGHT_SHARE,
      });
      append(input);
      eMed += Math.abs(input.value - truth) / cells.length;
      eMean += Math.abs(consensus(ps, () => 1, { method: 'mean' }).value - truth) / cells.length;
    }
    errors.push({ round, median: eMed, mean: eMean });
    const scores = field.ids.map((id) => ({ id, s: reputationOf(rep, id) }));
    reputations.push({
      liarsMax: Math.max(...scores.filter((x) => field.liars.has(x.id)).map((x) => x.s)),
      honestMin: Math.min(...scores.filter((x) => !field.liars.has(x.id)).map((x) => x.s)),
    });
  }

  it('the robust consensus stays near ground truth while the plain mean is pulled away', () => {
    for (const e of errors) {
      expect(e.median).toBeLessThan(0.6);
      expect(e.mean).toBeGreaterThan(1.5); // 4/20 × 10 = 2 expected pull
    }
  });

  it("liars' reputation falls below every honest node's, and keeps falling over rounds", () => {
    for (const r of reputations) expect(r.liarsMax).toBeLessThan(r.honestMin);
    const last = reputations[reputations.length - 1];
    expect(last?.liarsMax).toBeLessThan(0.1);
    expect(last?.honestMin).toBeGreaterThan(0.8);
  });

  it('with reputation built, the reputation-weighted mean recovers too', () => {
    const cell = cells[0] as string;
    const ps = field.perspectives(cell);
    const weighted = consensus(ps, (n) => reputationOf(rep, n), { method: 'mean' });
    expect(Math.abs(weighted.value - field.truth(cell))).toBeLessThan(0.8);
  });

  it('replaying the entries gives the same reputation and the same consensus', () => {
    expect(replayReputation(entries)).toEqual(rep);
    const replayed = replayConsensus(entries);
    expect(replayed).toHaveLength(60);
    expect(replayed.every((r) => r.same)).toBe(true);
  });

  it('replay detects a tampered consensus entry', () => {
    const tampered = entries.map((e, i) => (i === 30 ? { ...e, value: (e.value as number) + 1 } : e));
    const replayed = replayConsensus(tampered);
    // Entries before it still replay; the tampered one is the first that does not (and what
    // follows may differ too: its agreement verdicts fed later reputations).
    expect(replayed.findIndex((r) => !r.same)).toBe(30);
  });
});

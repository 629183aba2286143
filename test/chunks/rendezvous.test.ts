import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { byPreference, rankCandidates } from '../../src/chunks/index.js';

const chunkId = (i: number) => createHash('sha256').update(String(i)).digest('hex');
const NODES = ['bt-0', 'bt-1', 'bt-2', 'bt-3', 'bt-4'];

describe('rendezvous ranking', () => {
  it('is deterministic, order-independent and drops duplicates', () => {
    const id = chunkId(1);
    const ranked = rankCandidates(id, NODES);
    expect([...ranked].sort()).toEqual(NODES);
    expect(rankCandidates(id, [...NODES].reverse())).toEqual(ranked);
    expect(rankCandidates(id, [...NODES, 'bt-2', 'bt-0'])).toEqual(ranked);
  });

  it('spreads first choices evenly over the nodes (each within 25% of its fair share)', () => {
    const first = new Map<string, number>();
    const chunks = 5000;
    for (let i = 0; i < chunks; i++) {
      const top = rankCandidates(chunkId(i), NODES)[0]!;
      first.set(top, (first.get(top) ?? 0) + 1);
    }
    for (const n of NODES) {
      expect(first.get(n)).toBeGreaterThan((chunks / NODES.length) * 0.75);
      expect(first.get(n)).toBeLessThan((chunks / NODES.length) * 1.25);
    }
  });

  it('removing a node moves only the chunks it ranked first (rendezvous property)', () => {
    let moved = 0;
    for (let i = 0; i < 2000; i++) {
      const id = chunkId(i);
      const before = rankCandidates(id, NODES)[0];
      const after = rankCandidates(
        id,
        NODES.filter((n) => n !== 'bt-3'),
      )[0];
      if (before !== 'bt-3') expect(after).toBe(before);
      else moved++;
    }
    expect(moved).toBeGreaterThan(0);
  });

  it('puts online holders first, then the rank', () => {
    const id = chunkId(7);
    const ranked = rankCandidates(id, NODES);
    const hs = NODES.map((node) => ({ node, online: node !== ranked[0] }));
    const pref = byPreference(id, hs).map((h) => h.node);
    expect(pref).toEqual([...ranked.slice(1), ranked[0]]);
  });
});

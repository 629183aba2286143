/**
 * Rendezvous (highest-random-weight) ranking of nodes for a chunk: every node ranks the same
 * holders for the same chunk, and chunks spread evenly over the fleet. It runs on every push and
 * every fetch, so the score is a cheap 32-bit hash (FNV-1a with murmur3's finaliser for avalanche)
 * instead of a SHA-256 per node (a visible share of a fetch: docs/benchmarks.md). The score only
 * spreads load; nothing trusts it.
 */

/** The score of `node` for `id`; higher ranks first. */
export function rendezvousScore(id: string, node: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0, 0x01000193); // separator: ("ab","c") and ("a","bc") differ
  for (let i = 0; i < node.length; i++) h = Math.imul(h ^ node.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Distinct `nodes` ranked for chunk `id` (ties, vanishingly rare, by node id). */
export function rankCandidates(id: string, nodes: readonly string[]): string[] {
  const scored = [...new Set(nodes)].map((node) => ({ node, score: rendezvousScore(id, node) }));
  scored.sort((a, b) => b.score - a.score || (a.node < b.node ? -1 : 1));
  return scored.map((s) => s.node);
}

/** Online first, then by rank for chunk `id`. */
export function byPreference<H extends { node: string; online: boolean }>(id: string, hs: readonly H[]): H[] {
  const scored = hs.map((h) => ({ h, score: rendezvousScore(id, h.node) }));
  scored.sort((a, b) => Number(b.h.online) - Number(a.h.online) || b.score - a.score || (a.h.node < b.h.node ? -1 : 1));
  return scored.map((s) => s.h);
}

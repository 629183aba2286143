/**
 * Reputation of peers, derived from the series only (docs/design-notes.md "Consensus and reputation").
 *
 *   score = positive / (positive + negative), `REP_PRIOR` (0.5) with no evidence.
 *
 * Evidence, with its weight (constants.ts):
 * - `consensus` entries: each responder whose value agrees with the consensus is +1
 *   (`REP_AGREE_WEIGHT`), one that disagrees is −1 (`REP_DISAGREE_WEIGHT`). Agreement:
 *   |v − value| ≤ max(k · spread, k · se, floor), k = `DEFAULT_AGREE_K` (3), floor =
 *   `DEFAULT_AGREE_FLOOR`, judged only when the consensus has at least
 *   `DEFAULT_AGREE_MIN_RESPONDERS` (5) perspectives; with the default median method, spread is the
 *   weighted MAD × 1.4826, a σ estimate liars cannot inflate while they hold under half the weight.
 *   (With the mean method the spread is a standard deviation that liars do inflate, so they can
 *   hide inside it: one reason the median is the default.)
 *   `se` is the responder's own sampling noise: `MEDIAN_SE_PER_SD` × sd / √readings, its value being
 *   the median of `readings` readings (the entry's `readings`). The MAD of a handful of values
 *   that each pool many readings can sit far below what a node with few readings may honestly
 *   miss by, so that node would be marked a liar for its sampling alone. sd is the median over the
 *   responders of their readings' sd (`reading_sd`), not the node's own: a node cannot widen its
 *   band by sending scattered readings, and liars under half cannot inflate it. A constant bias of
 *   several σ stays outside the band from the first reading. Entries without `readings` get se 0.
 * - `chunk_fetched` (the chunk layer delivered data from `from` and its hash matched): +1
 *   (`REP_VERIFIED_WEIGHT`).
 * - `chunk_rejected` against `from`: reason `hash_mismatch` −5 (`REP_HASH_MISMATCH_WEIGHT`, the
 *   strongest); any other reason (`malformed` bytes) −2 (`REP_MALFORMED_WEIGHT`).
 * - `observation_rejected` (a YES to `want_observations` whose data was malformed): −2 for `from`
 *   (`REP_MALFORMED_WEIGHT`).
 * - `intent_outcome`: each node in `silence` (expected, online, neither answered nor went
 *   offline) is −0.1 (`REP_SILENCE_WEIGHT`, mild: it may simply hold nothing). `offline` and `no`
 *   are not held against anyone (a NO with a reason is an honest answer).
 *
 * ONE fold: `reputationView.apply` is the step, `replayReputation` folds it over entries, so the
 * live view and a replay of the series agree by construction (and a test checks it).
 */
import type { Entry, View } from '../series/types.js';
import {
  DEFAULT_AGREE_FLOOR,
  DEFAULT_AGREE_K,
  DEFAULT_AGREE_MIN_RESPONDERS,
  MAX_REPUTATION_NODES,
  MEDIAN_SE_PER_SD,
  REP_AGREE_WEIGHT,
  REP_DISAGREE_WEIGHT,
  REP_HASH_MISMATCH_WEIGHT,
  REP_MALFORMED_WEIGHT,
  REP_PRIOR,
  REP_SILENCE_WEIGHT,
  REP_VERIFIED_WEIGHT,
} from './constants.js';

export const REPUTATION_VIEW = 'observe.reputation';

export interface Tally {
  pos: number;
  neg: number;
}

/** Plain data (snapshot-able): tallies by node id, at most `MAX_REPUTATION_NODES`. */
export interface ReputationState {
  nodes: Record<string, Tally>;
}

/**
 * True when `v` agrees with a consensus `value` of `spread`, for a responder whose value carries a
 * sampling standard error `se` (see the file comment).
 */
export function agrees(v: number, value: number, spread: number, se = 0): boolean {
  return Math.abs(v - value) <= Math.max(DEFAULT_AGREE_K * spread, DEFAULT_AGREE_K * se, DEFAULT_AGREE_FLOOR);
}

/** Finite numbers of a recorded by-node map (empty when absent or not an object). */
function numbersOf(x: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof x !== 'object' || x === null) return out;
  for (const [k, v] of Object.entries(x as Record<string, unknown>)) {
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) out[k] = v;
  }
  return out;
}

/**
 * Each responder's sampling standard error in a consensus entry: `MEDIAN_SE_PER_SD` × the median
 * reading sd of the responders / √(its readings). 0 where the entry does not say.
 */
export function samplingErrors(e: Entry): (node: string) => number {
  const readings = numbersOf(e.readings);
  const sds = Object.values(numbersOf(e.reading_sd)).sort((a, b) => a - b);
  if (sds.length === 0) return () => 0;
  const m = sds.length >> 1;
  const sd = sds.length % 2 ? (sds[m] as number) : ((sds[m - 1] as number) + (sds[m] as number)) / 2;
  return (node) => {
    const n = readings[node];
    return n !== undefined && n >= 1 ? (MEDIAN_SE_PER_SD * sd) / Math.sqrt(n) : 0;
  };
}

const str = (x: unknown): string | undefined => (typeof x === 'string' && x.length > 0 ? x : undefined);
const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);

/** The sender a chunk entry is recorded against (`from`, as the chunk layer writes it). */
function chunkSender(e: Entry): string | undefined {
  return str(e.from);
}

/** The evidence one entry carries: [node, positive, negative] triples. */
export function evidenceOf(e: Entry): [string, number, number][] {
  switch (e.event) {
    case 'consensus': {
      const value = num(e.value);
      const spread = num(e.spread);
      const values = e.values;
      if (value === undefined || spread === undefined || typeof values !== 'object' || values === null) return [];
      const out: [string, number, number][] = [];
      const all = Object.entries(values as Record<string, unknown>);
      if (all.length < DEFAULT_AGREE_MIN_RESPONDERS) return out;
      const seOf = samplingErrors(e);
      for (const [node, v] of all) {
        const x = num(v);
        if (x === undefined) continue;
        const ok = agrees(x, value, spread, seOf(node));
        out.push(ok ? [node, REP_AGREE_WEIGHT, 0] : [node, 0, REP_DISAGREE_WEIGHT]);
      }
      return out;
    }
    case 'chunk_fetched': {
      const s = chunkSender(e);
      return s ? [[s, REP_VERIFIED_WEIGHT, 0]] : [];
    }
    case 'chunk_rejected': {
      const s = chunkSender(e);
      const w = e.reason === 'hash_mismatch' ? REP_HASH_MISMATCH_WEIGHT : REP_MALFORMED_WEIGHT;
      return s ? [[s, 0, w]] : [];
    }
    case 'observation_rejected': {
      const s = str(e.from);
      return s ? [[s, 0, REP_MALFORMED_WEIGHT]] : [];
    }
    case 'intent_outcome': {
      const silence = Array.isArray(e.silence) ? e.silence : [];
      return silence.flatMap((n): [string, number, number][] => {
        const id = str(n);
        return id ? [[id, 0, REP_SILENCE_WEIGHT]] : [];
      });
    }
    default:
      return [];
  }
}

/** Drop the node with the least evidence (ties: the greatest id) until within the bound. */
function bound(state: ReputationState): void {
  const ids = Object.keys(state.nodes);
  let extra = ids.length - MAX_REPUTATION_NODES;
  while (extra-- > 0) {
    let worst: string | undefined;
    let worstN = Number.POSITIVE_INFINITY;
    for (const id of Object.keys(state.nodes)) {
      const t = state.nodes[id] as Tally;
      const n = t.pos + t.neg;
      if (n < worstN || (n === worstN && worst !== undefined && id > worst)) {
        worst = id;
        worstN = n;
      }
    }
    if (worst !== undefined) delete state.nodes[worst];
  }
}

/**
 * The reputation view. `apply` updates the state in place and returns it (folding thousands of
 * entries must not copy the table each time); it is deterministic in the entries.
 */
export const reputationView: View<ReputationState> = {
  name: REPUTATION_VIEW,
  initial: () => ({ nodes: {} }),
  apply(state, entry) {
    const ev = evidenceOf(entry);
    if (ev.length === 0) return state;
    let added = false;
    for (const [node, pos, neg] of ev) {
      let t = state.nodes[node];
      if (t === undefined) {
        t = { pos: 0, neg: 0 };
        state.nodes[node] = t;
        added = true;
      }
      t.pos += pos;
      t.neg += neg;
    }
    // Counting keys is O(nodes): only when a node was added.
    if (added && Object.keys(state.nodes).length > MAX_REPUTATION_NODES) bound(state);
    return state;
  },
};

/**
 * The state to fold from: a copy of this view's state in `first` when it is a `snapshot` entry
 * that carries it (a series whose oldest segments were evicted opens with one), else `initial()`.
 */
export function reputationStart(first: Entry | undefined): ReputationState {
  const views = first?.event === 'snapshot' ? first.views : undefined;
  const snap =
    typeof views === 'object' && views !== null ? (views as Record<string, unknown>)[REPUTATION_VIEW] : undefined;
  if (typeof snap === 'object' && snap !== null && typeof (snap as ReputationState).nodes === 'object') {
    return structuredClone(snap as ReputationState);
  }
  return reputationView.initial();
}

/**
 * Fold entries (in seq order) into the reputation: the one replayable function. When the first
 * entry is a snapshot carrying the view (the ring evicted what came before), it starts from there;
 * later snapshots are skipped, as the live series does.
 */
export function replayReputation(entries: Iterable<Entry>, upToSeq = Number.POSITIVE_INFINITY): ReputationState {
  let s: ReputationState | undefined;
  for (const e of entries) {
    if (s === undefined) s = reputationStart(e);
    if (e.seq > upToSeq) break;
    if (e.event !== 'snapshot') s = reputationView.apply(s, e);
  }
  return s ?? reputationView.initial();
}

/** positive / (positive + negative); `REP_PRIOR` with no evidence. */
export function reputationOf(state: ReputationState, node: string): number {
  const t = state.nodes[node];
  if (!t || t.pos + t.neg === 0) return REP_PRIOR;
  return t.pos / (t.pos + t.neg);
}

/** Every tracked node's score, by id. */
export function reputationScores(state: ReputationState): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of Object.keys(state.nodes).sort()) out[id] = reputationOf(state, id);
  return out;
}

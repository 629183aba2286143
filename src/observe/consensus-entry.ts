/**
 * The `consensus` entry and its replay. The entry records everything needed to recompute it:
 * `{event:'consensus', cell, metric, value, method, spread, responders, weights, values,
 *   max_share, rep_seq, intent?, fallback?, min_responders?, low_confidence?}` where `values` is
 * each responder's perspective, `rep_seq` the last seq folded into the reputation that weighted it,
 * and `low_confidence: true` marks a cell fewer than `min_responders` answered for. Replaying the series
 * (reputation folded up to `rep_seq`, consensus recomputed) must give the same entry. `readings` and
 * `reading_sd` (each responder's reading count and their sd, when known) are what the reputation
 * needs to judge agreement against each responder's own sampling noise.
 */
import type { Entry, EntryInput } from '../series/types.js';
import { type ConsensusMethod, consensus, type Perspective } from './consensus.js';
import { CONSENSUS_EVENT } from './observation.js';
import { type ReputationState, reputationOf, reputationStart, reputationView } from './reputation.js';

export interface ConsensusFields {
  cell: string;
  metric: string;
  value: number;
  method: ConsensusMethod;
  spread: number;
  responders: string[];
  weights: Record<string, number>;
  values: Record<string, number>;
  max_share: number;
  rep_seq: number;
  intent?: string;
  fallback?: 'equal';
  /** The fewest responders trusted when this was written (absent on entries written before it was recorded). */
  min_responders?: number;
  /** Present (true) only when fewer than `min_responders` responded: shown, not trusted. */
  low_confidence?: true;
  /** Readings behind each responder's value, by node (absent when the perspectives did not say). */
  readings?: Record<string, number>;
  /** Sample sd of those readings, by node (nodes with at least two readings). */
  reading_sd?: Record<string, number>;
}

export type ConsensusEntry = Entry & ConsensusFields & { event: 'consensus' };

export function consensusInput(
  cell: string,
  metric: string,
  perspectives: readonly Perspective[],
  reputation: ReputationState,
  repSeq: number,
  options: { method: ConsensusMethod; maxShare: number; intent?: string; minResponders?: number },
): EntryInput & ConsensusFields {
  const sorted = [...perspectives].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  const r = consensus(sorted, (n) => reputationOf(reputation, n), {
    method: options.method,
    maxShare: options.maxShare,
  });
  const values: Record<string, number> = {};
  for (const p of sorted) values[p.node] = p.value;
  const input: EntryInput & ConsensusFields = {
    event: CONSENSUS_EVENT,
    cell,
    metric,
    value: r.value,
    method: r.method,
    spread: r.spread,
    responders: r.responders,
    weights: r.weights,
    values,
    max_share: options.maxShare,
    rep_seq: repSeq,
  };
  if (options.intent !== undefined) input.intent = options.intent;
  if (r.fallback) input.fallback = r.fallback;
  recordSampling(input, sorted);
  if (options.minResponders !== undefined) {
    input.min_responders = options.minResponders;
    if (r.responders.length < options.minResponders) input.low_confidence = true;
  }
  return input;
}

/** Each responder's reading count and sd, when the perspectives carry them. */
function recordSampling(input: ConsensusFields, sorted: readonly Perspective[]): void {
  const readings: Record<string, number> = {};
  const sd: Record<string, number> = {};
  for (const p of sorted) {
    if (p.readings !== undefined) readings[p.node] = p.readings;
    if (p.readingSd !== undefined) sd[p.node] = p.readingSd;
  }
  if (Object.keys(readings).length > 0) input.readings = readings;
  if (Object.keys(sd).length > 0) input.reading_sd = sd;
}

export function asConsensus(e: Entry): ConsensusEntry | undefined {
  if (e.event !== CONSENSUS_EVENT) return undefined;
  if (typeof e.cell !== 'string' || typeof e.metric !== 'string' || typeof e.value !== 'number') return undefined;
  if (typeof e.values !== 'object' || e.values === null || typeof e.rep_seq !== 'number') return undefined;
  return e as ConsensusEntry;
}

export interface ReplayedConsensus {
  entry: ConsensusEntry;
  recomputed: { value: number; spread: number; weights: Record<string, number> };
  same: boolean;
}

/**
 * Replay: fold the reputation through `entries` (seq order) and recompute every consensus entry
 * from its recorded perspectives and the reputation as of its `rep_seq`.
 */
export function replayConsensus(entries: readonly Entry[]): ReplayedConsensus[] {
  const out: ReplayedConsensus[] = [];
  let rep = reputationStart(entries[0]);
  let folded = 0;
  for (const e of entries) {
    const c = asConsensus(e);
    if (c) {
      // Fold up to rep_seq (the entries a consensus was weighted by all precede it).
      while (folded < entries.length && (entries[folded] as Entry).seq <= c.rep_seq) {
        const x = entries[folded] as Entry;
        if (x.event !== 'snapshot') rep = reputationView.apply(rep, x);
        folded++;
      }
      const perspectives = Object.entries(c.values).map(([node, value]) => ({ node, value }));
      const again = consensusInput(c.cell, c.metric, perspectives, rep, c.rep_seq, {
        method: c.method,
        maxShare: c.max_share,
        ...(typeof c.min_responders === 'number' ? { minResponders: c.min_responders } : {}),
      });
      const same =
        again.low_confidence === c.low_confidence &&
        again.value === c.value &&
        again.spread === c.spread &&
        JSON.stringify(again.weights) === JSON.stringify(c.weights);
      out.push({ entry: c, recomputed: { value: again.value, spread: again.spread, weights: again.weights }, same });
    }
  }
  return out;
}

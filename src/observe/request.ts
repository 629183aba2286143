/**
 * The requester side: declare `want_observations` for a cell, collect the closed outcome (the
 * intent layer writes it to the series, silence included), turn YES data into perspectives,
 * compute consensus per cell and metric with the reputation this node derived from its own series,
 * and append one `consensus` entry for each. Optionally push the new consensus entries as a chunk
 * to storage nodes (the chunk layer's push: `store_chunk` to K `bt` nodes, who announce `have`).
 */
import type { DeclaredIntent, DeclareOptions, Outcome } from '../intent/types.js';
import type { Logger } from '../log.js';
import { buildChunk } from '../series/index.js';
import type { Entry, Series } from '../series/types.js';
import type { ConsensusMethod } from './consensus.js';
import { type ConsensusEntry, consensusInput } from './consensus-entry.js';
import {
  DEFAULT_CONSENSUS_METHOD,
  DEFAULT_MAX_WEIGHT_SHARE,
  DEFAULT_MIN_RESPONDERS,
  DEFAULT_OBSERVE_DEADLINE_MS,
} from './constants.js';
import { WANT_OBSERVATIONS } from './handler.js';
import { assertCell } from './observation.js';
import { perspectivesFrom, type ReplyVerdict } from './perspectives.js';
import { REPUTATION_VIEW, type ReputationState, replayReputation } from './reputation.js';

/** The chunk layer's push, as the chunks service exposes it (`ChunksService.pushChunk`). */
export interface ConsensusPusher {
  pushChunk(chunk: { id: string; bytes: Uint8Array }): Promise<{ holders: string[]; met: boolean }>;
}

export interface RequestDeps {
  id: string;
  series: Series;
  intents: { declare(kind: string, options?: DeclareOptions): DeclaredIntent };
  log: Logger;
  /** When given, each round's consensus entries are pushed as one chunk. */
  chunks?: ConsensusPusher;
}

export interface RequestOptions {
  /** Only this metric. Default every metric the responders observed. */
  metric?: string;
  /** Default `DEFAULT_CONSENSUS_METHOD` (`median`). */
  method?: ConsensusMethod;
  /** Default `DEFAULT_MAX_WEIGHT_SHARE` (0.2). */
  maxShare?: number;
  /** ms; default `DEFAULT_OBSERVE_DEADLINE_MS` (2000). */
  deadlineMs?: number;
  /** Only ask these nodes. */
  to?: string[];
  /**
   * `cell` (default): one consensus per observation cell and metric, so a prefix subject maps every
   * cell inside it in one intent; `subject`: one consensus per metric pooled over the subject.
   */
  groupBy?: 'cell' | 'subject';
  /** A cell with fewer responders is written `low_confidence: true`. Default `DEFAULT_MIN_RESPONDERS` (3). */
  minResponders?: number;
}

export interface ConsensusChunkRecord {
  id: string;
  holders: string[];
  met: boolean;
}

export interface RequestResult {
  cell: string;
  outcome: Outcome;
  /** One per cell and metric, as appended (seq stamped). Empty when nobody answered with data. */
  consensus: ConsensusEntry[];
  /** What happened to each YES reply's data. */
  verdicts: Record<string, ReplyVerdict>;
  /** The pushed chunk of `consensus`, when a pusher is configured and there was consensus. */
  chunk?: ConsensusChunkRecord;
}

/** The live reputation view and the last seq folded into it, read in one synchronous turn. */
function liveReputation(series: Series): { state: ReputationState; seq: number } | undefined {
  try {
    // Views apply at append, so `lastSeq` is exactly what the view has folded.
    return { state: series.view<ReputationState>(REPUTATION_VIEW), seq: series.lastSeq };
  } catch {
    return undefined;
  }
}

/** Without the view registered: replay the series (slower; other appends may interleave). */
async function replayedReputation(series: Series): Promise<{ state: ReputationState; seq: number }> {
  const seq = series.lastSeq;
  const entries: Entry[] = [];
  for await (const e of series.read({
    toSeq: seq,
    event: ['consensus', 'chunk_rejected', 'chunk_fetched', 'intent_outcome', 'observation_rejected'],
  }))
    entries.push(e);
  return { state: replayReputation(entries), seq };
}

export async function requestConsensus(
  deps: RequestDeps,
  cell: string,
  o: RequestOptions = {},
): Promise<RequestResult> {
  assertCell(cell);
  const declareOptions: DeclareOptions = { subject: cell, deadlineMs: o.deadlineMs ?? DEFAULT_OBSERVE_DEADLINE_MS };
  if (o.to) declareOptions.to = o.to;
  const outcome = await deps.intents.declare(WANT_OBSERVATIONS, declareOptions);
  const replies = outcome.yes.map((r) => ({ node: r.envelope.from, data: r.envelope.data }));
  const { groups, verdicts } = perspectivesFrom(replies, cell, {
    ...(o.metric !== undefined ? { metric: o.metric } : {}),
    groupBy: o.groupBy ?? 'cell',
  });
  for (const [node, v] of Object.entries(verdicts)) {
    if (v === 'malformed') {
      // Bad input from the wire: dropped, and recorded against the sender (reputation input).
      await deps.series.append({ event: 'observation_rejected', from: node, intent: outcome.id, cell, reason: v });
    } else if (v !== 'ok') deps.log.debug({ node, verdict: v, cell }, 'want_observations reply dropped');
  }
  const method = o.method ?? DEFAULT_CONSENSUS_METHOD;
  const maxShare = o.maxShare ?? DEFAULT_MAX_WEIGHT_SHARE;
  const appends: Promise<Entry>[] = [];
  for (const g of groups) {
    const live = liveReputation(deps.series);
    const rep = live ?? (await replayedReputation(deps.series));
    // Computed and appended in one synchronous turn (append applies the views before its first
    // await), so no other entry slips in between `rep.seq` and this consensus: a replay that folds
    // up to rep_seq recomputes exactly this entry. With the live view, every group's append is
    // issued at once and they share one group commit.
    const input = consensusInput(g.cell, g.metric, g.perspectives, rep.state, rep.seq, {
      method,
      maxShare,
      intent: outcome.id,
      minResponders: o.minResponders ?? DEFAULT_MIN_RESPONDERS,
    });
    const appended = deps.series.append(input);
    appends.push(appended);
    if (!live) await appended;
  }
  const consensus = (await Promise.all(appends)) as ConsensusEntry[];
  const result: RequestResult = { cell, outcome, consensus, verdicts };
  if (deps.chunks && consensus.length > 0) {
    const chunk = buildChunk(deps.id, consensus);
    try {
      const pushed = await deps.chunks.pushChunk({ id: chunk.id, bytes: chunk.bytes });
      result.chunk = { id: chunk.id, holders: pushed.holders, met: pushed.met };
      await deps.series.append({
        event: 'consensus_chunk',
        id: chunk.id,
        cell,
        seqs: consensus.map((c) => c.seq),
        holders: pushed.holders,
        met: pushed.met,
      });
    } catch (err) {
      deps.log.warn({ err, cell }, 'consensus chunk push failed; the consensus stays in the local series');
    }
  }
  return result;
}

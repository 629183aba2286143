/**
 * Push: declare `store_chunk` until K storage nodes said YES or no candidate is left.
 *
 * Each round addresses (`to`) only as many untried candidates as replicas are still missing, so a
 * fleet of N bt nodes is not asked to keep N copies of everything. Candidates are ranked by
 * rendezvous hashing (rendezvous.ts): every pusher ranks the same holders for the
 * same chunk, and chunks spread evenly over the fleet. NO and silence move on to the next ones.
 */
import type { DeclaredIntent, DeclareOptions } from '../intent/types.js';
import type { Chunk, Series } from '../series/types.js';
import { DEFAULT_PUSH_DEADLINE_MS, DEFAULT_REPLICAS } from './constants.js';
import { rankCandidates } from './rendezvous.js';

export interface PushDeps {
  declare(kind: string, options: DeclareOptions): DeclaredIntent;
  /** Online nodes with role `bt`, minus self. */
  candidates(): string[];
  series: Series;
}

export interface PushOptions {
  /** Replication target K. Default `DEFAULT_REPLICAS` (3). */
  replicas?: number;
  /** Deadline of each round, ms. Default `DEFAULT_PUSH_DEADLINE_MS` (5000). */
  deadlineMs?: number;
  /** Last seq of the pusher's own series in this chunk: recorded so the next `pushSeries` starts after it. */
  lastSeq?: number;
}

export interface PushResult {
  id: string;
  size: number;
  /** Nodes that answered YES (stored and announced). */
  holders: string[];
  refused: Array<{ node: string; reason: string }>;
  silent: string[];
  offline: string[];
  rounds: number;
  /** True when `holders.length >= replicas`. */
  met: boolean;
}

export async function pushChunk(
  deps: PushDeps,
  chunk: Pick<Chunk, 'id' | 'bytes'>,
  o: PushOptions = {},
): Promise<PushResult> {
  const replicas = o.replicas ?? DEFAULT_REPLICAS;
  const deadlineMs = o.deadlineMs ?? DEFAULT_PUSH_DEADLINE_MS;
  const ranked = rankCandidates(chunk.id, deps.candidates());
  const tried = new Set<string>();
  const holders = new Set<string>();
  const res: PushResult = {
    id: chunk.id,
    size: chunk.bytes.length,
    holders: [],
    refused: [],
    silent: [],
    offline: [],
    rounds: 0,
    met: false,
  };
  while (holders.size < replicas) {
    const next = ranked.filter((n) => !tried.has(n)).slice(0, replicas - holders.size);
    if (next.length === 0) break;
    for (const n of next) tried.add(n);
    res.rounds += 1;
    const outcome = await deps.declare('store_chunk', { subject: chunk.id, body: chunk.bytes, to: next, deadlineMs });
    for (const y of [...outcome.yes, ...outcome.late.filter((l) => l.envelope.r === 'yes')])
      holders.add(y.envelope.from);
    for (const n of outcome.no) res.refused.push({ node: n.envelope.from, reason: n.envelope.reason ?? 'unknown' });
    res.silent.push(...outcome.silence);
    res.offline.push(...outcome.offline);
  }
  res.holders = [...holders];
  res.met = holders.size >= replicas;
  await deps.series.append({
    event: 'chunk_pushed',
    id: chunk.id,
    size: res.size,
    holders: res.holders,
    met: res.met,
    rounds: res.rounds,
    // Only a chunk that met K moves the push mark: the next `pushSeries` retries the others.
    ...(o.lastSeq !== undefined && res.met ? { last_seq: o.lastSeq } : {}),
  });
  return res;
}

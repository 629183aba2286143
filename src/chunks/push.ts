/**
 * Push: declare `store_chunk` until K storage nodes said YES or no candidate is left.
 *
 * Each round addresses (`to`) only as many untried candidates as replicas are still missing, so a
 * fleet of N bt nodes is not asked to keep N copies of everything. Candidates are ranked by
 * rendezvous hashing (rendezvous.ts): every pusher ranks the same holders for the
 * same chunk, and chunks spread evenly over the fleet. NO and silence move on to the next ones.
 */
import type { DeclaredIntent, DeclareOptions } from '../intent/index.js';
import type { Chunk, EntryInput, Series } from '../series/index.js';
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
  options: PushOptions = {},
): Promise<PushResult> {
  const res = await pushChunkUnrecorded(deps, chunk, options);
  await deps.series.append(pushedEntry(res, options.lastSeq));
  return res;
}

/**
 * The `chunk_pushed` entry of a push. `lastSeq` (the pusher's own seq the chunk ends at) is kept
 * only when K was met: the push mark moves only over replicated chunks, so the next `pushSeries`
 * retries the others.
 */
export function pushedEntry(res: PushResult, lastSeq?: number): EntryInput {
  return {
    event: 'chunk_pushed',
    id: res.id,
    size: res.size,
    holders: res.holders,
    met: res.met,
    rounds: res.rounds,
    ...(lastSeq !== undefined && res.met ? { last_seq: lastSeq } : {}),
  };
}

/**
 * The push itself, without its entry: for a caller that writes the entries in its own order.
 * `heldBy`: nodes known to hold the chunk already (announced); they count toward K and are not
 * asked again, so K of them settle the chunk without a round.
 */
export async function pushChunkUnrecorded(
  deps: Omit<PushDeps, 'series'>,
  chunk: Pick<Chunk, 'id' | 'bytes'>,
  options: Omit<PushOptions, 'lastSeq'> & { heldBy?: readonly string[] } = {},
): Promise<PushResult> {
  const replicas = options.replicas ?? DEFAULT_REPLICAS;
  const deadlineMs = options.deadlineMs ?? DEFAULT_PUSH_DEADLINE_MS;
  const ranked = rankCandidates(chunk.id, deps.candidates());
  const holders = new Set<string>(options.heldBy ?? []);
  const tried = new Set<string>(holders);
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
  return res;
}

export interface InOrderOptions extends Omit<PushOptions, 'lastSeq'> {
  /** Chunks in flight at once (at least 1). */
  window: number;
  /** Called before each chunk is sent (may throw to stop: a node stopped meanwhile). */
  beforeSend?: () => void;
  /** Told of each chunk's outcome, in chunk order. */
  onSettled?: (res: PushResult, chunk: { lastSeq: number }) => void;
  /**
   * Nodes that already announce a chunk (sent before a crash, a retry after a holder was not
   * ready, or the same bytes pushed by another path): not asked again; K of them settle it unsent.
   */
  knownHolders?: (id: string) => readonly string[];
}

/**
 * Pushes `chunks` with up to `window` in flight, and takes their outcomes, and writes their
 * `chunk_pushed` entries, in chunk order: the push mark only ever covers a prefix of replicated
 * chunks. Stops sending at the first chunk short of K; the ones already sent are settled (their
 * entries without a mark). Returns the outcomes in chunk order.
 */
export async function pushInOrder(
  deps: PushDeps,
  chunks: AsyncIterable<Pick<Chunk, 'id' | 'bytes' | 'chunk'>>,
  options: InOrderOptions,
): Promise<PushResult[]> {
  const results: PushResult[] = [];
  const inFlight: Array<{ lastSeq: number; result: Promise<PushResult> }> = [];
  let shortOfK = false;
  const settleOldest = async (): Promise<void> => {
    const { lastSeq, result } = inFlight.shift() as (typeof inFlight)[number];
    const res = await result;
    // A chunk after one short of K was sent all the same but does not move the mark past it.
    deps.series.record(pushedEntry(res, shortOfK ? undefined : lastSeq));
    if (!res.met) shortOfK = true;
    results.push(res);
    options.onSettled?.(res, { lastSeq });
  };
  try {
    for await (const chunk of chunks) {
      // Later chunks would move the mark past the one short of K; the next push retries from it.
      if (shortOfK) break;
      options.beforeSend?.();
      const heldBy = options.knownHolders?.(chunk.id) ?? [];
      const result = pushChunkUnrecorded(deps, chunk, { ...options, heldBy });
      result.catch(() => undefined); // awaited in order below; not an unhandled rejection meanwhile
      inFlight.push({ lastSeq: chunk.chunk.last_seq, result });
      if (inFlight.length >= Math.max(1, options.window)) await settleOldest();
    }
    while (inFlight.length > 0) await settleOldest();
  } finally {
    // On a throw (a stopped node), nothing is left running: what was sent settles, without entries.
    await Promise.allSettled(inFlight.map((f) => f.result));
  }
  return results;
}

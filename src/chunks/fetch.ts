/**
 * Fetch: ask the announced holders (online first) one at a time with `want_chunk` addressed to
 * that holder; take the first YES whose bytes hash to the id. NO, silence, offline and a bad hash
 * move on to the next holder; a bad hash is recorded against the sender. When nobody announced
 * (or every announced holder failed), ask the remaining bt nodes together and take the first
 * verified reply as it arrives.
 */
import type { DeclaredIntent, DeclareOptions, ReceivedReply } from '../intent/index.js';
import { type EntryInput, recorder, type Series } from '../series/index.js';
import { DEFAULT_FETCH_DEADLINE_MS } from './constants.js';
import { BadChunkIdError, ChunkNotFoundError } from './errors.js';
import { recordRejected } from './handlers.js';
import { hashMismatch, isChunkCbor, isChunkId } from './verify.js';

export interface FetchDeps {
  declare(kind: string, options: DeclareOptions): DeclaredIntent;
  /** Holders announced by retained `have` records, as they arrive. */
  holders(id: string): AsyncIterable<{ node: string; online: boolean }>;
  /** The tracked holders, online first, when known without a round trip (have.ts); else undefined. */
  trackedHolders?(id: string): Array<{ node: string; online: boolean }> | undefined;
  /** Online nodes with role `bt`, minus self. */
  candidates(): string[];
  series: Series;
}

export interface FetchOptions {
  /** Deadline of each attempt, ms. Default `DEFAULT_FETCH_DEADLINE_MS` (3000). */
  deadlineMs?: number;
  /**
   * Nodes known to hold the chunk without a `have` lookup (they just named it, e.g. in a
   * `want_chunks` answer, pull.ts): asked first, as online, before the announced holders.
   */
  claimedBy?: readonly string[];
}

export type AttemptResult = 'yes' | 'no' | 'silence' | 'offline' | 'bad_hash' | 'bad_data';

export interface FetchAttempt {
  node: string;
  result: AttemptResult;
  reason?: string;
}

export interface FetchResult {
  id: string;
  bytes: Uint8Array;
  from: string;
  attempts: FetchAttempt[];
}

export async function fetchChunk(deps: FetchDeps, id: string, options: FetchOptions = {}): Promise<FetchResult> {
  if (!isChunkId(id)) throw new BadChunkIdError(id);
  const f: Fetching = {
    deps,
    id,
    deadlineMs: options.deadlineMs ?? DEFAULT_FETCH_DEADLINE_MS,
    // Outcome entries are written without awaiting their fsync (the intent layer does the same): the
    // seq order is fixed at the call, and a fetch is not held up by the group-commit window. A series
    // that refuses them (closed, failed) does not fail the fetch: the series reports its own failure.
    record: recorder(deps.series),
    attempts: [],
    tried: new Set(),
  };
  const got = (await askHolders(f, options.claimedBy ?? [])) ?? (await askTheRest(f));
  if (got) return got;
  f.record({ event: 'chunk_fetch_failed', id, tried: f.tried.size });
  throw new ChunkNotFoundError(id, f.tried.size);
}

/** One fetch in progress: what it asked and what came back. */
interface Fetching {
  deps: FetchDeps;
  id: string;
  deadlineMs: number;
  record: (entry: EntryInput) => void;
  attempts: FetchAttempt[];
  tried: Set<string>;
}

/**
 * The nodes that claimed the chunk, then the tracked or announced holders: online ones as their
 * records arrive (the first is asked while the rest still stream in), offline ones last, in case
 * they came back.
 */
async function askHolders(f: Fetching, claimedBy: readonly string[]): Promise<FetchResult | undefined> {
  const offline: string[] = [];
  /** Asks an online holder not yet tried; keeps an offline one for later. */
  const consider = (h: { node: string; online: boolean }): Promise<FetchResult | undefined> | undefined => {
    if (f.tried.has(h.node)) return undefined;
    if (h.online) return ask(f, h.node);
    offline.push(h.node);
    return undefined;
  };
  for (const node of claimedBy) {
    const got = await consider({ node, online: true });
    if (got) return got;
  }
  // A chunk whose holders are tracked: no generator, no promise per holder.
  for (const h of f.deps.trackedHolders?.(f.id) ?? []) {
    const got = await consider(h);
    if (got) return got;
  }
  for await (const h of f.deps.holders(f.id)) {
    const got = await consider(h);
    if (got) return got;
  }
  for (const n of offline) {
    if (f.tried.has(n)) continue;
    const got = await ask(f, n);
    if (got) return got;
  }
  return undefined;
}

/** One holder, addressed with `to`; the result when it delivered a verified copy. */
async function ask(f: Fetching, holder: string): Promise<FetchResult | undefined> {
  f.tried.add(holder);
  const outcome = await f.deps.declare('want_chunk', { subject: f.id, to: [holder], deadlineMs: f.deadlineMs });
  const replies = [...outcome.yes, ...outcome.no];
  if (replies.length === 0) {
    // Not expected at all = not online in the roster at declaration: offline too, not silent.
    const gone = outcome.offline.includes(holder) || !outcome.expected.includes(holder);
    f.attempts.push({ node: holder, result: gone ? 'offline' : 'silence' });
    return undefined;
  }
  for (const r of replies) {
    const bytes = check(f, r);
    if (bytes) return done(f, bytes, r.envelope.from);
  }
  return undefined;
}

/** Nobody announced, or every announced holder failed: ask the rest of the bt nodes at once. */
async function askTheRest(f: Fetching): Promise<FetchResult | undefined> {
  const rest = f.deps.candidates().filter((n) => !f.tried.has(n));
  if (f.tried.size > 0 && rest.length === 0) return undefined;
  const declared = f.deps.declare('want_chunk', {
    subject: f.id,
    deadlineMs: f.deadlineMs,
    ...(f.tried.size > 0 ? { to: rest } : {}),
  });
  for await (const reply of declared) {
    f.tried.add(reply.envelope.from);
    const bytes = check(f, reply);
    if (bytes) return done(f, bytes, reply.envelope.from);
  }
  // paradigm: silence is data. A bt node without the chunk stays silent, so every node the
  // broadcast was addressed to counts as asked (the error names how many were asked).
  const outcome = await declared;
  for (const n of outcome.expected) {
    if (f.tried.has(n)) continue;
    f.tried.add(n);
    f.attempts.push({ node: n, result: outcome.offline.includes(n) ? 'offline' : 'silence' });
  }
  return undefined;
}

/** Verifies one reply; records it; returns the bytes when sound. */
function check(f: Fetching, reply: ReceivedReply): Uint8Array | undefined {
  const from = reply.envelope.from;
  if (reply.envelope.r === 'no') {
    f.attempts.push({ node: from, result: 'no', reason: reply.envelope.reason ?? 'unknown' });
    return undefined;
  }
  const data = reply.envelope.data;
  if (!(data instanceof Uint8Array)) return rejected(f, from, 'bad_data');
  if (hashMismatch(f.id, data) !== undefined) return rejected(f, from, 'bad_hash');
  // Hashes right but holds CBOR no chunk may hold (a bignum, shared references): a holder that
  // stored a self-made body, refused before anything decodes it.
  if (!isChunkCbor(data)) return rejected(f, from, 'bad_data');
  f.attempts.push({ node: from, result: 'yes' });
  return data;
}

/** A reply that is no copy of the chunk: an attempt, and an entry against its sender. */
function rejected(f: Fetching, from: string, result: 'bad_data' | 'bad_hash'): undefined {
  f.attempts.push({ node: from, result });
  const reason = result === 'bad_hash' ? 'hash_mismatch' : 'malformed';
  recordRejected(f.deps.series, from, f.id, reason, 'want_chunk').catch(() => undefined);
  return undefined;
}

function done(f: Fetching, bytes: Uint8Array, from: string): FetchResult {
  f.record({ event: 'chunk_fetched', id: f.id, from, size: bytes.length, attempts: f.attempts.length });
  return { id: f.id, bytes, from, attempts: f.attempts };
}

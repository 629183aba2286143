/**
 * Fetch: ask the announced holders (online first) one at a time with `want_chunk` addressed to
 * that holder; take the first YES whose bytes hash to the id. NO, silence, offline and a bad hash
 * move on to the next holder; a bad hash is recorded against the sender. When nobody announced
 * (or every announced holder failed), ask the remaining bt nodes together and take the first
 * verified reply as it arrives.
 */
import type { DeclaredIntent, DeclareOptions, ReceivedReply } from '../intent/types.js';
import { recorder } from '../series/recorder.js';
import type { Series } from '../series/types.js';
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

export async function fetchChunk(deps: FetchDeps, id: string, o: FetchOptions = {}): Promise<FetchResult> {
  if (!isChunkId(id)) throw new BadChunkIdError(id);
  // Outcome entries are written without awaiting their fsync (the intent layer does the same): the
  // seq order is fixed at the call, and a fetch is not held up by the group-commit window. A series
  // that refuses them (closed, failed) does not fail the fetch: the series reports its own failure.
  const record = recorder(deps.series);
  const deadlineMs = o.deadlineMs ?? DEFAULT_FETCH_DEADLINE_MS;
  const attempts: FetchAttempt[] = [];
  const tried = new Set<string>();

  /** Verifies one reply; records it; returns the bytes when sound. */
  const check = (reply: ReceivedReply): Uint8Array | undefined => {
    const from = reply.envelope.from;
    if (reply.envelope.r === 'no') {
      attempts.push({ node: from, result: 'no', reason: reply.envelope.reason ?? 'unknown' });
      return undefined;
    }
    const data = reply.envelope.data;
    if (!(data instanceof Uint8Array)) {
      attempts.push({ node: from, result: 'bad_data' });
      recordRejected(deps.series, from, id, 'malformed', 'want_chunk').catch(() => undefined);
      return undefined;
    }
    if (hashMismatch(id, data) !== undefined) {
      attempts.push({ node: from, result: 'bad_hash' });
      recordRejected(deps.series, from, id, 'hash_mismatch', 'want_chunk').catch(() => undefined);
      return undefined;
    }
    if (!isChunkCbor(data)) {
      // Hashes right but holds CBOR no chunk may hold (a bignum, shared references): a holder that
      // stored a self-made body, refused before anything decodes it.
      attempts.push({ node: from, result: 'bad_data' });
      recordRejected(deps.series, from, id, 'malformed', 'want_chunk').catch(() => undefined);
      return undefined;
    }
    attempts.push({ node: from, result: 'yes' });
    return data;
  };

  const done = (bytes: Uint8Array, from: string): FetchResult => {
    record({ event: 'chunk_fetched', id, from, size: bytes.length, attempts: attempts.length });
    return { id, bytes, from, attempts };
  };

  /** One holder, addressed with `to`; the bytes when it delivered a verified copy. */
  const ask = async (holder: string): Promise<FetchResult | undefined> => {
    tried.add(holder);
    const outcome = await deps.declare('want_chunk', { subject: id, to: [holder], deadlineMs });
    const replies = [...outcome.yes, ...outcome.no];
    if (replies.length === 0) {
      // Not expected at all = not online in the roster at declaration: offline too, not silent.
      const gone = outcome.offline.includes(holder) || !outcome.expected.includes(holder);
      attempts.push({ node: holder, result: gone ? 'offline' : 'silence' });
      return undefined;
    }
    for (const r of replies) {
      const bytes = check(r);
      if (bytes) return done(bytes, r.envelope.from);
    }
    return undefined;
  };

  // Online holders as their records arrive (the first is asked while the rest still stream in);
  // offline ones last, in case they came back.
  const offline: string[] = [];
  /** Asks an online holder not yet tried; keeps an offline one for later. */
  const consider = (h: { node: string; online: boolean }): Promise<FetchResult | undefined> | undefined => {
    if (tried.has(h.node)) return undefined;
    if (h.online) return ask(h.node);
    offline.push(h.node);
    return undefined;
  };
  for (const node of o.claimedBy ?? []) {
    const got = await consider({ node, online: true });
    if (got) return got;
  }
  // A chunk whose holders are tracked: no generator, no promise per holder.
  for (const h of deps.trackedHolders?.(id) ?? []) {
    const got = await consider(h);
    if (got) return got;
  }
  for await (const h of deps.holders(id)) {
    const got = await consider(h);
    if (got) return got;
  }
  for (const n of offline) {
    if (tried.has(n)) continue;
    const got = await ask(n);
    if (got) return got;
  }

  // Nobody announced, or every announced holder failed: ask the rest of the bt nodes at once.
  const rest = deps.candidates().filter((n) => !tried.has(n));
  if (tried.size === 0 || rest.length > 0) {
    const declared = deps.declare('want_chunk', { subject: id, deadlineMs, ...(tried.size > 0 ? { to: rest } : {}) });
    for await (const reply of declared) {
      tried.add(reply.envelope.from);
      const bytes = check(reply);
      if (bytes) return done(bytes, reply.envelope.from);
    }
    // paradigm: silence is data. A bt node without the chunk stays silent, so count every node the
    // broadcast was addressed to as asked (the error said "after asking 0 node(s)" with bt nodes online).
    const outcome = await declared;
    for (const n of outcome.expected) {
      if (tried.has(n)) continue;
      tried.add(n);
      attempts.push({ node: n, result: outcome.offline.includes(n) ? 'offline' : 'silence' });
    }
  }
  record({ event: 'chunk_fetch_failed', id, tried: tried.size });
  throw new ChunkNotFoundError(id, tried.size);
}

/**
 * Fetch: ask the announced holders (online first) one at a time with `want_chunk` addressed to
 * that holder; take the first YES whose bytes hash to the id. NO, silence, offline and a bad hash
 * move on to the next holder; a bad hash is recorded against the sender. When nobody announced
 * (or every announced holder failed), ask the remaining bt nodes together and take the first
 * verified reply as it arrives.
 */
import type { DeclaredIntent, DeclareOptions, ReceivedReply } from '../intent/types.js';
import type { Series } from '../series/types.js';
import { DEFAULT_FETCH_DEADLINE_MS } from './constants.js';
import { BadChunkIdError, ChunkNotFoundError } from './errors.js';
import { recordRejected } from './handlers.js';
import { hashMismatch, isChunkId } from './verify.js';

export interface FetchDeps {
  declare(kind: string, options: DeclareOptions): DeclaredIntent;
  /** Holders announced by retained `have` records, online first. */
  whoHas(id: string): Promise<string[]>;
  /** Online nodes with role `bt`, minus self. */
  candidates(): string[];
  series: Series;
}

export interface FetchOptions {
  /** Deadline of each attempt, ms. Default `DEFAULT_FETCH_DEADLINE_MS` (3000). */
  deadlineMs?: number;
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
  const deadlineMs = o.deadlineMs ?? DEFAULT_FETCH_DEADLINE_MS;
  const attempts: FetchAttempt[] = [];
  const tried = new Set<string>();

  /** Verifies one reply; records it; returns the bytes when sound. */
  const check = async (reply: ReceivedReply): Promise<Uint8Array | undefined> => {
    const from = reply.envelope.from;
    if (reply.envelope.r === 'no') {
      attempts.push({ node: from, result: 'no', reason: reply.envelope.reason ?? 'unknown' });
      return undefined;
    }
    const data = reply.envelope.data;
    if (!(data instanceof Uint8Array)) {
      attempts.push({ node: from, result: 'bad_data' });
      await recordRejected(deps.series, from, id, 'malformed', 'want_chunk');
      return undefined;
    }
    if (hashMismatch(id, data) !== undefined) {
      attempts.push({ node: from, result: 'bad_hash' });
      await recordRejected(deps.series, from, id, 'hash_mismatch', 'want_chunk');
      return undefined;
    }
    attempts.push({ node: from, result: 'yes' });
    return data;
  };

  const done = async (bytes: Uint8Array, from: string): Promise<FetchResult> => {
    await deps.series.append({ event: 'chunk_fetched', id, from, size: bytes.length, attempts: attempts.length });
    return { id, bytes, from, attempts };
  };

  for (const holder of await deps.whoHas(id)) {
    if (tried.has(holder)) continue;
    tried.add(holder);
    const outcome = await deps.declare('want_chunk', { subject: id, to: [holder], deadlineMs });
    const replies = [...outcome.yes, ...outcome.no];
    if (replies.length === 0) {
      attempts.push({ node: holder, result: outcome.offline.includes(holder) ? 'offline' : 'silence' });
      continue;
    }
    for (const r of replies) {
      const bytes = await check(r);
      if (bytes) return done(bytes, r.envelope.from);
    }
  }

  // Nobody announced, or every announced holder failed: ask the rest of the bt nodes at once.
  const rest = deps.candidates().filter((n) => !tried.has(n));
  if (tried.size === 0 || rest.length > 0) {
    const declared = deps.declare('want_chunk', { subject: id, deadlineMs, ...(tried.size > 0 ? { to: rest } : {}) });
    for await (const reply of declared) {
      tried.add(reply.envelope.from);
      const bytes = await check(reply);
      if (bytes) return done(bytes, reply.envelope.from);
    }
  }
  await deps.series.append({ event: 'chunk_fetch_failed', id, tried: tried.size });
  throw new ChunkNotFoundError(id, tried.size);
}

/**
 * Chunks (docs/protocol.md §8): the CBOR map `{v:1, node, first_seq, last_seq, start_t, end_t,
 * events}`; its id is the lowercase hex SHA-256 of its exact bytes. Pure helpers, so the chunk
 * store and intent answerers verify with the same code that builds.
 */
import crypto, { createHash } from 'node:crypto';
import { decodeChunkBody, encodeEntry, WireError } from '../cbor/index.js';
import { DamesoError } from '../errors.js';
import type { Chunk, ChunkMap, Entry } from './types.js';

/** Lowercase hex SHA-256 of the chunk's exact bytes. */
export function chunkId(bytes: Uint8Array): string {
  return oneShot === undefined ? createHash('sha256').update(bytes).digest('hex') : oneShot('sha256', bytes, 'hex');
}

/**
 * `crypto.hash` (Node >= 20.12): the one-shot digest, without a Hash object per call (a chunk is
 * hashed at every fetch; figures in docs/benchmarks.md). Older Node 20 lines fall back.
 */
const oneShot = (crypto as { hash?: (alg: string, data: Uint8Array, enc: 'hex') => string }).hash;

/**
 * Build a chunk from entries in seq order. `start_t`/`end_t` are the min/max `t` of the events
 * (t is wall clock and not sorted). Key order is fixed, so equal entries give equal bytes.
 */
export function buildChunk(node: string, events: Entry[]): Chunk {
  if (events.length === 0) throw new DamesoError('DAMESO_CHUNK_EMPTY', 'a chunk needs at least one entry');
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  for (const e of events) {
    if (e.t < start) start = e.t;
    if (e.t > end) end = e.t;
  }
  const chunk: ChunkMap = {
    v: 1,
    node,
    first_seq: events[0]!.seq,
    last_seq: events[events.length - 1]!.seq,
    start_t: start,
    end_t: end,
    events,
  };
  const bytes = encodeEntry(chunk);
  return { id: chunkId(bytes), bytes, chunk };
}

export class BadChunkError extends DamesoError {
  constructor(why: string) {
    super('DAMESO_BAD_CHUNK', `bad chunk: ${why}`);
  }
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array) && !(x instanceof Map);
}

/**
 * Decode and check a chunk's shape (not its id: compare `chunkId(bytes)` with the expected id).
 * Throws `DAMESO_BAD_CHUNK` on anything that is not a well-formed chunk map, and on CBOR outside
 * what a chunk may hold (`scanChunkCbor`), before decoding it.
 */
export function decodeChunk(bytes: Uint8Array): ChunkMap {
  let m: unknown;
  // Chunk bytes come from peers (their id is their hash, which the sender chose): only CBOR that
  // decodes in time linear in its size reaches cbor-x (no bignums, no shared references).
  try {
    m = decodeChunkBody(bytes);
  } catch (err) {
    throw new BadChunkError(err instanceof WireError ? `${err.reason}: ${err.message}` : 'not CBOR');
  }
  if (!isPlainObject(m)) throw new BadChunkError('not a map');
  if (m.v !== 1) throw new BadChunkError(`version ${String(m.v)} is not 1`);
  if (typeof m.node !== 'string') throw new BadChunkError('node is not text');
  for (const k of ['first_seq', 'last_seq', 'start_t', 'end_t'] as const) {
    if (typeof m[k] !== 'number') throw new BadChunkError(`${k} is not a number`);
  }
  if (!Array.isArray(m.events)) throw new BadChunkError('events is not an array');
  for (const e of m.events) {
    if (!isPlainObject(e) || typeof e.seq !== 'number' || typeof e.t !== 'number' || typeof e.event !== 'string') {
      throw new BadChunkError('an event is not {seq, t, event, ...}');
    }
  }
  return m as unknown as ChunkMap;
}

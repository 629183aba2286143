/**
 * Verification: a chunk's id is the lowercase hex SHA-256 of its exact bytes (docs/protocol.md §8).
 * A receiver recomputes it before it stores, serves or counts a chunk; a mismatch is a typed error
 * and never reaches the store or the wire.
 */
import { CHUNK_ID_PATTERN, scanChunkCbor } from '../protocol/index.js';
import { chunkId } from '../series/index.js';
import { BadChunkIdError, ChunkHashMismatchError } from './errors.js';

/** True when `id` has the shape of a chunk id (64 lowercase hex characters). */
export function isChunkId(id: unknown): id is string {
  return typeof id === 'string' && CHUNK_ID_PATTERN.test(id);
}

/** The lowercase hex SHA-256 of `bytes` (the series' `chunkId`: one definition of an id). */
export const sha256Hex: (bytes: Uint8Array) => string = chunkId;

/** Throws `BadChunkIdError` or `ChunkHashMismatchError` unless `bytes` hash to `id`. */
export function verifyChunk(id: string, bytes: Uint8Array): void {
  if (!isChunkId(id)) throw new BadChunkIdError(id);
  const actual = sha256Hex(bytes);
  if (actual !== id) throw new ChunkHashMismatchError(id, actual);
}

/** The non-throwing form: `undefined` when sound, else the hash the bytes really have. */
export function hashMismatch(id: string, bytes: Uint8Array): string | undefined {
  const actual = sha256Hex(bytes);
  return actual === id ? undefined : actual;
}

/** True when `bytes` is CBOR a chunk may hold (`scanChunkCbor`): safe to hand to the decoder. */
export function isChunkCbor(bytes: Uint8Array): boolean {
  try {
    scanChunkCbor(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Bytes → chunk map, for the store's metadata. A body that hashes right but is not a v1 chunk map
 * (DESIGN.md "Chunks") is malformed: `MalformedChunkError`, answered NO `bad_request`.
 */
import { decode } from 'cbor-x';
import type { ChunkMap, Entry } from '../series/types.js';
import { MalformedChunkError } from './errors.js';

export function decodeChunkMap(bytes: Uint8Array): ChunkMap {
  let value: unknown;
  try {
    value = decode(bytes);
  } catch (err) {
    throw new MalformedChunkError(`not CBOR (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedChunkError('not a map');
  const m = value as Record<string, unknown>;
  if (m.v !== 1) throw new MalformedChunkError('v is not 1');
  if (typeof m.node !== 'string' || m.node.length === 0) throw new MalformedChunkError('node is not text');
  for (const k of ['first_seq', 'last_seq', 'start_t', 'end_t'] as const) {
    if (typeof m[k] !== 'number' || !Number.isFinite(m[k])) throw new MalformedChunkError(`${k} is not a number`);
  }
  if (!Array.isArray(m.events)) throw new MalformedChunkError('events is not an array');
  for (const e of m.events) {
    if (typeof e !== 'object' || e === null) throw new MalformedChunkError('an event is not a map');
    const entry = e as Record<string, unknown>;
    if (typeof entry.seq !== 'number' || typeof entry.t !== 'number' || typeof entry.event !== 'string') {
      throw new MalformedChunkError('an event lacks seq, t or event');
    }
  }
  return m as unknown as ChunkMap & { events: Entry[] };
}

/**
 * Bytes → chunk map, for the store's metadata, through the series' own `decodeChunk` (one
 * definition of a well-formed chunk). A body that hashes right but is not a v1 chunk map
 * (docs/protocol.md §8) is `MalformedChunkError`, answered NO `bad_request`.
 */
import { messageOf } from '../errors.js';
import { type ChunkMap, decodeChunk } from '../series/index.js';
import { MalformedChunkError } from './errors.js';

export function decodeChunkMap(bytes: Uint8Array): ChunkMap {
  try {
    return decodeChunk(bytes);
  } catch (err) {
    throw new MalformedChunkError(messageOf(err));
  }
}

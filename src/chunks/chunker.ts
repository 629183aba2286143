/**
 * The chunking policy: cut a seq range of the series into consecutive chunks of at most
 * `maxEntries` entries and about `maxBytes` encoded entry bytes. Reads stream from disk; nothing
 * loads the ring.
 */
import { encodeEntry } from '../cbor/index.js';
import { ConfigError } from '../errors.js';
import { buildChunk, type Chunk, type Entry, type Series } from '../series/index.js';
import { DEFAULT_CHUNK_MAX_BYTES, DEFAULT_CHUNK_MAX_ENTRIES } from './constants.js';

export interface ChunkingOptions {
  /** Most entries per chunk. Default `DEFAULT_CHUNK_MAX_ENTRIES` (1024). */
  maxEntries?: number;
  /**
   * Most encoded entry bytes per chunk (the chunk header adds ~60 bytes). Default
   * `DEFAULT_CHUNK_MAX_BYTES` (64 KiB). An entry larger than this on its own gets a chunk of its own.
   */
  maxBytes?: number;
}

export function chunkingPolicy(options: ChunkingOptions = {}): Required<ChunkingOptions> {
  const maxEntries = options.maxEntries ?? DEFAULT_CHUNK_MAX_ENTRIES;
  const maxBytes = options.maxBytes ?? DEFAULT_CHUNK_MAX_BYTES;
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new ConfigError('chunks.maxEntries', `${maxEntries} is not an integer >= 1`);
  if (!Number.isFinite(maxBytes) || maxBytes < 1)
    throw new ConfigError('chunks.maxBytes', `${maxBytes} is not a number >= 1`);
  return { maxEntries, maxBytes };
}

/**
 * The chunks of `fromSeq..toSeq` (inclusive) that are still in the ring, cut by the policy and
 * stamped with `node`, each yielded as soon as it is cut: one read pass over the range, and one
 * chunk's entries in memory at a time, however long the range. (Cutting every range first and
 * then reading each one back holds the whole range as chunk bytes and decoded entries, several
 * times its size in RSS, and each read-back rescans its segment from the start: see
 * docs/design-notes.md "Pushing a whole series in one pass".) Entries evicted while a consumer is slow are
 * simply not in the chunks: a segment gone before the pass reaches it reads as empty.
 */
export async function* streamChunks(
  series: Series,
  node: string,
  fromSeq: number,
  toSeq: number,
  options: ChunkingOptions = {},
): AsyncGenerator<Chunk> {
  const { maxEntries, maxBytes } = chunkingPolicy(options);
  let events: Entry[] = [];
  let bytes = 0;
  for await (const e of series.read({ fromSeq, toSeq })) {
    const size = encodeEntry(e).length;
    if (events.length > 0 && (events.length + 1 > maxEntries || bytes + size > maxBytes)) {
      yield buildChunk(node, events);
      events = [];
      bytes = 0;
    }
    events.push(e);
    bytes += size;
  }
  if (events.length > 0) yield buildChunk(node, events);
}

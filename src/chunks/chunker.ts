/**
 * The chunking policy: cut a seq range of the series into consecutive ranges of at most
 * `maxEntries` entries and about `maxBytes` encoded entry bytes, then let the series encode each
 * range as a chunk (`Series.chunk`). Reads stream from disk; nothing loads the ring.
 */
import { encode } from 'cbor-x';
import { ConfigError } from '../errors.js';
import type { Chunk, Series } from '../series/types.js';
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

export interface SeqRange {
  fromSeq: number;
  toSeq: number;
  entries: number;
  /** Sum of the encoded entry sizes. */
  bytes: number;
}

export function chunkingPolicy(o: ChunkingOptions = {}): Required<ChunkingOptions> {
  const maxEntries = o.maxEntries ?? DEFAULT_CHUNK_MAX_ENTRIES;
  const maxBytes = o.maxBytes ?? DEFAULT_CHUNK_MAX_BYTES;
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new ConfigError('chunks.maxEntries', `${maxEntries} is not an integer >= 1`);
  if (!Number.isFinite(maxBytes) || maxBytes < 1)
    throw new ConfigError('chunks.maxBytes', `${maxBytes} is not a number >= 1`);
  return { maxEntries, maxBytes };
}

/** Ranges covering the entries of `fromSeq..toSeq` (inclusive) that are still in the ring. */
export async function cutRanges(
  series: Series,
  fromSeq: number,
  toSeq: number,
  o: ChunkingOptions = {},
): Promise<SeqRange[]> {
  const { maxEntries, maxBytes } = chunkingPolicy(o);
  const out: SeqRange[] = [];
  let cur: SeqRange | undefined;
  for await (const e of series.read({ fromSeq, toSeq })) {
    const size = encode(e).length;
    if (cur && (cur.entries + 1 > maxEntries || cur.bytes + size > maxBytes)) {
      out.push(cur);
      cur = undefined;
    }
    if (!cur) cur = { fromSeq: e.seq, toSeq: e.seq, entries: 0, bytes: 0 };
    cur.toSeq = e.seq;
    cur.entries += 1;
    cur.bytes += size;
  }
  if (cur) out.push(cur);
  return out;
}

/** The chunks of `fromSeq..toSeq`, cut by the policy and stamped with `node`. */
export async function cutChunks(
  series: Series,
  node: string,
  fromSeq: number,
  toSeq: number,
  o: ChunkingOptions = {},
): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  for (const r of await cutRanges(series, fromSeq, toSeq, o)) chunks.push(await series.chunk(r.fromSeq, r.toSeq, node));
  return chunks;
}

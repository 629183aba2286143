/**
 * `pushSeries`: cut a range of the node's own series and push each chunk as it is cut, keeping the
 * prefix of the range that met K (the push mark ends before the first chunk short of K).
 */
import type { Series } from '../series/index.js';
import { type ChunkingOptions, streamChunks } from './chunker.js';
import { type InOrderOptions, type PushDeps, type PushResult, pushInOrder } from './push.js';

export interface PushSeriesResult {
  fromSeq: number;
  toSeq: number;
  /**
   * Last seq of the prefix of the range now replicated K times (`fromSeq - 1` when none): the push
   * covered `fromSeq..coveredToSeq`, `toSeq` when every chunk met K.
   */
  coveredToSeq: number;
  chunks: PushResult[];
}

/** Where a `pushSeries` is: told after each chunk's push. */
export interface PushSeriesProgress {
  fromSeq: number;
  toSeq: number;
  /** Last seq of the chunk just pushed: `(atSeq - fromSeq + 1) / (toSeq - fromSeq + 1)` is done. */
  atSeq: number;
  /** Chunks pushed so far, and their bytes. */
  chunks: number;
  bytes: number;
  /** Of those, the chunks that reached K replicas. */
  met: number;
}

export interface PushSeriesOptions {
  onProgress?: (p: PushSeriesProgress) => void;
}

export interface PushSeriesDeps {
  self: string;
  series: Series;
  net: PushDeps;
  chunking: ChunkingOptions;
  /** K, deadline, window and the check before each send. */
  push: Omit<InOrderOptions, 'onSettled'>;
}

/** Pushes `fromSeq..toSeq` (a non-empty range); resolves once its `chunk_pushed` entries are durable. */
export async function pushSeriesRange(
  deps: PushSeriesDeps,
  fromSeq: number,
  toSeq: number,
  options: PushSeriesOptions = {},
): Promise<PushSeriesResult> {
  const progress: PushSeriesProgress = { fromSeq, toSeq, atSeq: fromSeq - 1, chunks: 0, bytes: 0, met: 0 };
  let coveredToSeq = fromSeq - 1;
  let prefixMet = true;
  const chunks = await pushInOrder(deps.net, streamChunks(deps.series, deps.self, fromSeq, toSeq, deps.chunking), {
    ...deps.push,
    onSettled: (res, chunk) => {
      progress.atSeq = chunk.lastSeq;
      progress.chunks += 1;
      progress.bytes += res.size;
      if (res.met) progress.met += 1;
      prefixMet &&= res.met;
      if (prefixMet) coveredToSeq = chunk.lastSeq;
      options.onProgress?.({ ...progress });
    },
  });
  await deps.series.flush(); // the entries (and so the mark) are durable when this resolves
  // Every chunk met K: the whole range is covered (seqs past the last entry hold nothing).
  if (prefixMet) coveredToSeq = toSeq;
  return { fromSeq, toSeq, coveredToSeq, chunks };
}

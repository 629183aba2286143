/**
 * Pull: the chunks matching a filter, back from the storage nodes into a folder. How a node's
 * series is recovered after its board died: `want_chunks` to every bt node (each answers the ids
 * it holds that match), then each id fetched and verified (fetch.ts) from the nodes that named it
 * first, `window` at once, and written as `<dir>/<id>` by the store's own atomic, read-back-verified write. A chunk
 * already in the folder and sound is not fetched again, so a pull cut short is resumed by running
 * it again.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { messageOf } from '../errors.js';
import type { DeclaredIntent, DeclareOptions } from '../intent/index.js';
import { writeChunkFile } from './atomic.js';
import { MAX_IDS_PER_ANSWER } from './constants.js';
import type { FetchOptions, FetchResult } from './fetch.js';
import type { ChunkFilter } from './meta.js';
import { hashMismatch, isChunkId } from './verify.js';

export interface PullDeps {
  declare(kind: string, options: DeclareOptions): DeclaredIntent;
  /** Fetches one chunk (fetch.ts): the nodes that named it come as `claimedBy`, asked first. */
  fetch(id: string, options: FetchOptions): Promise<FetchResult>;
}

export interface PullOptions {
  /** Fetches at once. */
  window: number;
  /** Deadline of the `want_chunks` intent and of each fetch attempt, ms. */
  deadlineMs?: number;
  /** Told after each chunk (fetched, already there, or failed). */
  onProgress?: (p: PullProgress) => void;
}

export interface PullProgress {
  /** Distinct ids the bt nodes answered with. */
  total: number;
  done: number;
  /** Bytes written so far. */
  bytes: number;
}

export interface PullResult {
  /** bt nodes asked, and those that answered with ids. */
  asked: number;
  answered: number;
  /** bt nodes that answered NO (busy, bad filter…), with their reason. */
  refused: Array<{ node: string; reason: string }>;
  /** Distinct ids matched, sorted. */
  ids: string[];
  fetched: Array<{ id: string; from: string; size: number }>;
  /** Already in the folder and sound. */
  present: string[];
  failed: Array<{ id: string; error: string }>;
  /** Some node answered with as many ids as one answer holds: there may be more (narrow the filter). */
  truncated: boolean;
}

export async function pullChunks(
  deps: PullDeps,
  filter: ChunkFilter,
  dir: string,
  options: PullOptions,
): Promise<PullResult> {
  const outcome = await deps.declare('want_chunks', {
    body: filter,
    ...(options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {}),
  });
  // Who named each id: they are asked first, with no `have` lookup per chunk.
  const claimedBy = new Map<string, string[]>();
  let truncated = false;
  for (const reply of outcome.yes) {
    const data = reply.envelope.data;
    if (!Array.isArray(data)) continue; // a malformed answer names nothing
    if (data.length >= MAX_IDS_PER_ANSWER) truncated = true;
    for (const id of data) {
      if (!isChunkId(id)) continue;
      const by = claimedBy.get(id);
      if (by === undefined) claimedBy.set(id, [reply.envelope.from]);
      else by.push(reply.envelope.from);
    }
  }
  const res: PullResult = {
    asked: outcome.expected.length,
    answered: outcome.yes.length,
    refused: outcome.no.map((r) => ({ node: r.envelope.from, reason: r.envelope.reason ?? 'unknown' })),
    ids: [...claimedBy.keys()].sort(),
    fetched: [],
    present: [],
    failed: [],
    truncated,
  };
  await mkdir(dir, { recursive: true });
  const progress: PullProgress = { total: res.ids.length, done: 0, bytes: 0 };

  const pullOne = async (id: string): Promise<void> => {
    if (await soundIn(dir, id)) {
      res.present.push(id);
      return;
    }
    try {
      const got = await deps.fetch(id, {
        claimedBy: claimedBy.get(id) ?? [],
        ...(options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {}),
      });
      await writeChunkFile(dir, id, got.bytes);
      res.fetched.push({ id, from: got.from, size: got.bytes.length });
      progress.bytes += got.bytes.length;
    } catch (err) {
      res.failed.push({ id, error: messageOf(err) });
    }
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < res.ids.length) {
      await pullOne(res.ids[next++] as string);
      progress.done += 1;
      options.onProgress?.({ ...progress });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.window) }, worker));
  return res;
}

/** True when `<dir>/<id>` exists and hashes to `id`. */
async function soundIn(dir: string, id: string): Promise<boolean> {
  try {
    return hashMismatch(id, await readFile(join(dir, id))) === undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * The requester's recovery drill: while the fleet runs, a short-lived node pulls one node's chunks
 * back from the storage nodes (`want_chunks`, then each chunk fetched and verified: what `dameso
 * chunks pull` does after a board died) into a folder, then every file is hashed again against its
 * id, independently of the pull's own check.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createChunksService, hashMismatch } from '../chunks/index.js';
import { messageOf } from '../errors.js';
import { createLogger } from '../log.js';
import { createNode } from '../node/index.js';

export const PULLER_ID = 'fleet-puller';

export interface PullBack {
  /** The node whose chunks were pulled. */
  node: string;
  /** Chunks the storage nodes named, fetched, and those whose bytes did not hash to their id. */
  named: number;
  chunks: number;
  mismatched: number;
  failed: number;
  error?: string;
}

/** Pulls `node`'s chunks through `broker` into `dir` and hashes every file it wrote. */
export async function pullBack(options: {
  broker: string;
  node: string;
  dataDir: string;
  topicPrefix?: string;
}): Promise<PullBack> {
  const out: PullBack = { node: options.node, named: 0, chunks: 0, mismatched: 0, failed: 0 };
  const chunks = createChunksService({ track: false });
  const home = await mkdtemp(path.join(os.tmpdir(), 'dameso-fleet-puller-'));
  const puller = createNode({
    id: PULLER_ID,
    roles: [],
    broker: options.broker,
    dataDir: home,
    announce: false,
    services: [chunks],
    log: createLogger({ level: 'warn' }),
    ...(options.topicPrefix !== undefined ? { topicPrefix: options.topicPrefix } : {}),
  });
  try {
    await puller.start();
    const dir = path.join(options.dataDir, 'pulled', options.node);
    const r = await chunks.pull({ node: options.node }, dir);
    out.named = r.ids.length;
    out.failed = r.failed.length;
    for (const f of [...r.fetched.map((x) => x.id), ...r.present]) {
      const bytes = await readFile(path.join(dir, f));
      out.chunks++;
      if (hashMismatch(f, bytes) !== undefined) out.mismatched++;
    }
  } catch (err) {
    out.error = messageOf(err);
  } finally {
    await puller.stop().catch(() => undefined);
    await rm(home, { recursive: true, force: true });
  }
  return out;
}

/**
 * At open, the series (what the node believes it holds) and the chunks folder (what is there) are
 * made to agree, and every difference is reported:
 * - a temp file is the remains of an interrupted write: deleted;
 * - an entry whose file is missing or has the wrong size: `evicted_chunk {reason:'missing'}`;
 * - a file without an entry (a crash after the rename, before the entry was durable): adopted with
 *   `stored_chunk {adopted:true}` if it verifies and fits, else deleted.
 */
import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from '../fsync-dir.js';
import type { Logger } from '../log.js';
import type { Series } from '../series/index.js';
import { TEMP_PREFIX } from './constants.js';
import { decodeChunkMap } from './decode.js';
import { StorageFullError } from './errors.js';
import { metaOf } from './meta.js';
import { isChunkId, verifyChunk } from './verify.js';
import type { ChunksState } from './view.js';

export interface ReconcileFindings {
  /** Verified files found without a `stored_chunk` entry, now recorded. */
  adopted: string[];
  /** Entries whose file was missing (or the wrong size), now recorded as evicted. */
  missing: string[];
  /** Files without an entry that did not verify (or did not fit the index bound), deleted. */
  corrupt: string[];
  /** Leftover temp files of interrupted writes, deleted. */
  tempRemoved: number;
}

export async function reconcileFiles(deps: {
  dir: string;
  series: Series;
  log: Logger;
  state: () => ChunksState;
  maxChunks: number;
  budgetBytes: number;
}): Promise<ReconcileFindings> {
  const found: ReconcileFindings = { adopted: [], missing: [], corrupt: [], tempRemoved: 0 };
  const files = new Set<string>();
  let removedAny = false;
  for (const name of await readdir(deps.dir)) {
    if (name.startsWith(TEMP_PREFIX)) {
      await unlink(join(deps.dir, name)).catch(() => undefined);
      found.tempRemoved += 1;
      removedAny = true;
    } else if (isChunkId(name)) files.add(name);
  }
  for (const [id, held] of Object.entries(deps.state().held)) {
    const size = files.has(id)
      ? await stat(join(deps.dir, id)).then(
          (s) => s.size,
          () => -1,
        )
      : -1;
    files.delete(id);
    if (size === held.size) continue;
    if (size >= 0) {
      await unlink(join(deps.dir, id)).catch(() => undefined);
      removedAny = true;
    }
    found.missing.push(id);
    await deps.series.append({ event: 'evicted_chunk', id, size: held.size, reason: 'missing' });
  }
  for (const id of files) {
    const path = join(deps.dir, id);
    try {
      const bytes = await readFile(path);
      verifyChunk(id, bytes);
      const meta = metaOf(decodeChunkMap(bytes), bytes.length);
      const s = deps.state();
      if (s.count >= deps.maxChunks) throw new StorageFullError(meta.size, s.bytes, deps.budgetBytes);
      await deps.series.append({ event: 'stored_chunk', id, ...meta, adopted: true });
      found.adopted.push(id);
    } catch (err) {
      await unlink(path).catch(() => undefined);
      removedAny = true;
      found.corrupt.push(id);
      deps.log.warn({ id, err: String(err) }, 'chunk file without entry did not verify or fit: deleted');
    }
  }
  if (removedAny) await fsyncDir(deps.dir);
  return found;
}

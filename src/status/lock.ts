/**
 * Whether a node is running on a data folder: a live process holds its series lock (a pid file,
 * see src/series). Read only; a reader takes no lock, so it is safe beside the running node.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LOCK_FILE } from '../series/index.js';

/** The pid holding the lock of the series in `seriesDir` when that process is alive, else null. */
export async function lockHolder(seriesDir: string): Promise<number | null> {
  const pid = Number((await readFile(join(seriesDir, LOCK_FILE), 'utf8').catch(() => '')).trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: alive, another user's.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

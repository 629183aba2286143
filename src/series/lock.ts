/**
 * One writer per series folder. Two processes appending to the same segments would interleave
 * records at the same offsets and destroy each other's durable entries, so a writable open takes
 * a lock file holding its pid (O_EXCL). A lock left by a dead process (SIGKILL, power cut) is
 * stale and taken over; `readOnly` opens take no lock.
 *
 * Limits: a pid reused by an unrelated live process makes the lock look held (remove the file by
 * hand: the error says where); opens inside one process are not checked against each other.
 */
import { constants as fsc } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { DamesoError } from '../errors.js';
import { ioError } from './errors.js';

export const LOCK_FILE = '.dameso-series.lock';

export class SeriesLockedError extends DamesoError {
  constructor(path: string, pid: number) {
    super(
      'DAMESO_SERIES_LOCKED',
      `series is open for writing by process ${pid} (${path}); stop it, open read-only, or remove the lock if that process is not dameso`,
    );
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return false; // our own (an earlier open in this process)
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The pid of a live process holding the folder's lock (a writer appending right now), or
 * undefined: no lock, or a stale one. Reads only; a reader uses it to tell a record being
 * written from the trace of a crash.
 */
export async function liveWriter(dir: string): Promise<number | undefined> {
  const pid = Number((await readFile(join(dir, LOCK_FILE), 'utf8').catch(() => '')).trim());
  return Number.isSafeInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
}

export async function acquireLock(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o644);
      try {
        await fh.write(`${process.pid}\n`);
      } finally {
        await fh.close();
      }
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('open', path, err);
    }
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isSafeInteger(pid) && pid > 0 && alive(pid)) throw new SeriesLockedError(path, pid);
    await unlink(path).catch(() => undefined); // stale: its process is gone
  }
  throw new SeriesLockedError(path, -1);
}

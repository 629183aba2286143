/**
 * File-system facts the CLI states in words: a data folder that holds no series, and a folder
 * that cannot be created because the file system is read-only or permission is denied.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DamesoError } from '../errors.js';
import { SERIES_SUBDIR } from '../node/constants.js';

/**
 * Refuse a node data folder with no `series` folder in it (exit 65): `chunks push` and `map`
 * would otherwise create or read an empty series and report nothing useful.
 */
export async function requireSeriesIn(dataDir: string, flag: string): Promise<string> {
  const dir = join(dataDir, SERIES_SUBDIR);
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new DamesoError(
      'DAMESO_NOT_A_SERIES',
      `${dataDir} is not a node data folder (no ${SERIES_SUBDIR} folder in it); point ${flag} at the --data ` +
        'folder of a node that has run (`dameso node --data DIR`)',
    );
  }
  return dir;
}

interface FsCause {
  code?: string;
  syscall?: string;
  path?: string;
}

/**
 * A failed mkdir/open reported as ENOENT or EACCES/EROFS: find the nearest existing ancestor and
 * say whether it is read-only or not writable (Node's recursive mkdir reports ENOENT on a
 * read-only file system). Returns a DAMESO_READ_ONLY error (exit 73), or undefined when the cause
 * is something else.
 */
export async function explainCannotCreate(err: DamesoError): Promise<DamesoError | undefined> {
  if (err.code !== 'DAMESO_IO') return undefined;
  const cause = err.cause as FsCause | undefined;
  if (!cause?.path || (cause.syscall !== 'mkdir' && cause.syscall !== 'open')) return undefined;
  if (!['ENOENT', 'EACCES', 'EPERM', 'EROFS'].includes(cause.code ?? '')) return undefined;
  let dir = cause.path;
  for (let i = 0; i < 64; i++) {
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
    if ((await stat(dir).catch(() => undefined)) === undefined) continue;
    const code = await access(dir, constants.W_OK).then(
      () => undefined,
      (e: FsCause) => e.code,
    );
    if (code === 'EROFS') {
      return new DamesoError(
        'DAMESO_READ_ONLY',
        `cannot create ${cause.path}: ${dir} is on a read-only file system; point the data folder at a writable disk`,
        { cause: err },
      );
    }
    if (code === 'EACCES' || code === 'EPERM') {
      return new DamesoError(
        'DAMESO_READ_ONLY',
        `cannot create ${cause.path}: permission denied on ${dir}; use a folder this user can write, or fix its owner/mode`,
        { cause: err },
      );
    }
    return undefined;
  }
  return undefined;
}

/** Refuse an input folder that does not exist or is a file (exit 64, naming the path). */
export async function requireExistingDir(dir: string, flag: string): Promise<void> {
  const st = await stat(dir).catch(() => undefined);
  if (!st) throw new DamesoError('DAMESO_BAD_PATH', `${flag} ${dir} does not exist`);
  if (!st.isDirectory()) throw new DamesoError('DAMESO_BAD_PATH', `${flag} ${dir} is a file, not a folder`);
}

/**
 * Output files the CLI writes (`map --html/--csv/--geojson`): checked before any work is done, so
 * a wrong path costs one line and no wait, and written atomically (src/atomic-write.ts), so a
 * reader or a crash never sees half a file.
 */
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { writeAtomic } from '../atomic-write.js';
import { DamesoError } from '../errors.js';

/** An output path that cannot be written: exit 73. */
export class CannotWriteError extends DamesoError {
  constructor(flag: string, path: string, why: string) {
    super('DAMESO_CANNOT_WRITE', `cannot write ${flag} ${path}: ${why}`);
  }
}

function why(code: string | undefined, dir: string): string {
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return `the folder ${dir} does not exist; create it first`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied in ${dir}`;
    case 'EROFS':
      return `${dir} is on a read-only file system`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `no space left on the disk of ${dir}`;
    case 'EISDIR':
      return 'it is a folder; give a file name in it';
    default:
      return code ?? 'unknown error';
  }
}

/** Refuse a path whose folder is missing or not a folder, or that names a folder. */
export async function checkOutputPath(flag: string, path: string): Promise<void> {
  const dir = dirname(resolve(path));
  const parent = await stat(dir).catch(() => undefined);
  if (!parent?.isDirectory()) throw new CannotWriteError(flag, path, why('ENOENT', dir));
  const target = await stat(path).catch(() => undefined);
  if (target?.isDirectory()) throw new CannotWriteError(flag, path, why('EISDIR', dir));
}

/** Refuse an output folder (created when missing) that is a file: exit 64, naming it. */
export async function checkOutputDir(flag: string, dir: string): Promise<void> {
  const st = await stat(dir).catch(() => undefined);
  if (st !== undefined && !st.isDirectory()) {
    throw new DamesoError(
      'DAMESO_BAD_PATH',
      `${flag} ${dir} is a file, not a folder; give a folder (created if missing)`,
    );
  }
}

/** Write `text` to `path` through a temp file, a rename and a folder fsync. */
export async function writeFileAtomic(flag: string, path: string, text: string | Uint8Array): Promise<void> {
  try {
    await writeAtomic(resolve(path), text);
  } catch (err) {
    throw new CannotWriteError(flag, path, why((err as NodeJS.ErrnoException).code, dirname(resolve(path))));
  }
}

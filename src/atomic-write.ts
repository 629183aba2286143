/**
 * The one way a whole file replaces another (or comes to exist): a temp file in the same folder →
 * write → fsync → (an optional check of what the file holds) → rename → fsync the folder. A crash at
 * any point leaves the old file or the new one, and maybe a temp file; never a partial file under
 * the name. Shared by the chunk store, the broker's credentials file and the CLI's output files.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsyncDir } from './fsync-dir.js';

export interface AtomicWriteOptions {
  /** Mode of the new file, narrowed by the umask unless `exactMode`. Default 0o644. */
  mode?: number;
  /** Set `mode` exactly, whatever the umask (a file of secrets must not be wider, nor narrower). */
  exactMode?: boolean;
  /** Where the temp file goes (same folder). Default `.{name}.{pid}.{random}.tmp` beside the file. */
  tempPath?: string;
  /** Checks what the temp file holds through its still-open handle (read/write); throw to abort. */
  verify?: (fh: FileHandle) => Promise<void>;
  /** Runs once the temp file is closed, before the rename (tests crash a process here). */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

/** Writes `data` as `path`; on any failure before the rename the temp file is removed and the error thrown. */
export async function writeAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const dir = dirname(path);
  const mode = options.mode ?? 0o644;
  const temp = options.tempPath ?? join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let renamed = false;
  try {
    const fh = await open(temp, fsc.O_RDWR | fsc.O_CREAT | fsc.O_EXCL, mode);
    try {
      if (options.exactMode) await fh.chmod(mode);
      await fh.writeFile(data);
      await fh.sync();
      await options.verify?.(fh);
    } finally {
      await fh.close();
    }
    await options.beforeRename?.(temp);
    await rename(temp, path);
    renamed = true;
  } finally {
    if (!renamed) await unlink(temp).catch(() => undefined);
  }
  // The rename is durable only once the folder is (POSIX rename + fsync of the directory).
  await fsyncDir(dir);
}

/**
 * The one way a chunk file comes to exist: temp file → write → fsync → read back and verify the
 * SHA-256 against the id → rename → fsync the folder. A crash at any point leaves no file, a temp
 * file (removed at open), or a whole verified file; never a partial file under a chunk id.
 */
import { constants as fsc } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from '../fsync-dir.js';
import { TEMP_PREFIX } from './constants.js';
import { verifyChunk } from './verify.js';

let tempSeq = 0;

/** Writes `bytes` as `<dir>/<id>`; throws (and leaves no temp file) if anything fails or mismatches. */
export async function writeChunkFile(
  dir: string,
  id: string,
  bytes: Uint8Array,
  beforeRename?: (tempPath: string) => void | Promise<void>,
): Promise<void> {
  const temp = join(dir, `${TEMP_PREFIX}${id}-${process.pid}-${tempSeq++}`);
  let committed = false;
  try {
    const fh = await open(temp, fsc.O_RDWR | fsc.O_CREAT | fsc.O_EXCL, 0o644);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
      // What the file holds is verified, not what was in memory. Read through the open handle: one
      // call instead of readFile's open, fstat, read and close (each a thread-pool round trip).
      const back = Buffer.allocUnsafe(bytes.length);
      const { bytesRead } = await fh.read(back, 0, back.length, 0);
      verifyChunk(id, back.subarray(0, bytesRead));
    } finally {
      await fh.close();
    }
    await beforeRename?.(temp);
    await rename(temp, join(dir, id));
    committed = true;
    // The rename is durable only once the folder is (POSIX rename + fsync of the directory).
    await fsyncDir(dir);
  } finally {
    if (!committed) await unlink(temp).catch(() => undefined);
  }
}

/** Unlinks `<dir>/<id>` (a missing file is fine) and makes the removal durable. */
export async function removeChunkFile(dir: string, id: string): Promise<void> {
  await unlink(join(dir, id)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await fsyncDir(dir);
}

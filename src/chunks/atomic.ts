/**
 * The one way a chunk file comes to exist (src/atomic-write.ts): temp file → write → fsync → read
 * back and verify the SHA-256 against the id → rename → fsync the folder. A crash at any point leaves no file, a temp
 * file (removed at open), or a whole verified file; never a partial file under a chunk id.
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomic } from '../atomic-write.js';
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
  await writeAtomic(join(dir, id), bytes, {
    // The temp prefix tells reconciliation at open what to remove.
    tempPath: join(dir, `${TEMP_PREFIX}${id}-${process.pid}-${tempSeq++}`),
    // What the file holds is verified, not what was in memory. Read through the open handle: one
    // call instead of readFile's open, fstat, read and close (each a thread-pool round trip).
    verify: async (fh) => {
      const back = Buffer.allocUnsafe(bytes.length);
      const { bytesRead } = await fh.read(back, 0, back.length, 0);
      verifyChunk(id, back.subarray(0, bytesRead));
    },
    beforeRename,
  });
}

/** Unlinks `<dir>/<id>` (a missing file is fine) and makes the removal durable. */
export async function removeChunkFile(dir: string, id: string): Promise<void> {
  await unlink(join(dir, id)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  await fsyncDir(dir);
}

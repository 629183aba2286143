/**
 * fsync a folder, so that a file created, renamed or removed in it survives a power cut (a file's
 * own fsync does not make its NAME durable). Shared by the series and every atomic file write
 * (atomic-write.ts: chunk files, the broker's credentials file, the CLI's output files); each maps a
 * failure to its own typed error.
 */
import { constants as fsc } from 'node:fs';
import { open } from 'node:fs/promises';

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, fsc.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

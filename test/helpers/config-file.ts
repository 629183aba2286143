/** Helpers for the `--config FILE` tests of `dameso node` and `dameso broker`. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../src/errors.js';

/** The ConfigError `fn` throws (fails the test when it throws nothing or something else). */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('no ConfigError thrown');
}

/** Config files in temporary folders, removed by cleanup(). */
export class ConfigFiles {
  private readonly dirs: string[] = [];

  /** Writes `content` (JSON.stringify'd unless a string) to a fresh `name`; returns its path. */
  async write(name: string, content: unknown): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dameso-config-'));
    this.dirs.push(dir);
    const file = path.join(dir, name);
    await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  }
}

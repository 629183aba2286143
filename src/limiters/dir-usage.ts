/**
 * Bytes held in a folder, for when no series is open (`dameso limits --data DIR`) or as a
 * `usedBytes` collaborator in tests. It stats the files (never reads them), at most
 * `maxEntries` of them to a depth of `maxDepth`, on its own timer; `bytes()` returns the cached sum.
 * A running node passes `series.stats().bytes + chunks bytes` instead, which costs nothing.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, TimerHandle } from '../clock.js';

export interface DirUsageOptions {
  dir: string;
  clock: Clock;
  /** Rescan period, ms. Default 2000. */
  everyMs?: number;
  /** Most files counted per scan (the bound). Default 10 000. */
  maxEntries?: number;
  /** Deepest folder level visited. Default 3. */
  maxDepth?: number;
}

export interface DirUsage {
  bytes(): number;
  /** Scan now; resolves with the new total. */
  scan(): Promise<number>;
  start(): Promise<void>;
  stop(): void;
}

export function createDirUsage(options: DirUsageOptions): DirUsage {
  const everyMs = options.everyMs ?? 2_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const maxDepth = options.maxDepth ?? 3;
  let total = 0;
  let timer: TimerHandle | undefined;

  const scan = async (): Promise<number> => {
    let sum = 0;
    let seen = 0;
    const walk = async (dir: string, depth: number): Promise<void> => {
      let names: Dirent[];
      try {
        names = await readdir(dir, { withFileTypes: true });
      } catch {
        return; // missing or unreadable: counts as empty
      }
      for (const d of names) {
        if (seen >= maxEntries) return;
        const p = join(dir, d.name);
        if (d.isDirectory()) {
          if (depth < maxDepth) await walk(p, depth + 1);
        } else if (d.isFile()) {
          seen++;
          try {
            sum += (await stat(p)).size;
          } catch {
            // removed between readdir and stat
          }
        }
      }
    };
    await walk(options.dir, 0);
    total = sum;
    return sum;
  };

  return {
    bytes: () => total,
    scan,
    async start() {
      if (timer !== undefined) return;
      timer = options.clock.setInterval(() => void scan(), everyMs);
      await scan();
    },
    stop() {
      options.clock.clearInterval(timer);
      timer = undefined;
    },
  };
}

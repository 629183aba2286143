/**
 * Run `dameso series append` in a real child process and kill it with SIGKILL.
 *
 * The series commands (`series-cli-main.ts`, the same code as `dameso series`) are bundled once with esbuild (already installed as tsx's engine) into
 * `node_modules/.cache/dameso-series/`, so each child starts in ~0.1 s instead of compiling
 * TypeScript on every start: 20+ kill cycles stay within seconds on a loaded 2-core machine.
 * Packages stay external and resolve from the repository's node_modules.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '../..');
const OUT = join(ROOT, 'node_modules/.cache/dameso-series/main.mjs');
let built: Promise<string> | undefined;

export function bundledCli(): Promise<string> {
  built ??= (async () => {
    await mkdir(join(ROOT, 'node_modules/.cache/dameso-series'), { recursive: true });
    await build({
      entryPoints: [join(ROOT, 'test/helpers/series-cli-main.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outfile: OUT,
      logLevel: 'silent',
    });
    return OUT;
  })();
  return built;
}

export interface AppendChild {
  child: ChildProcess;
  /** Every `durable <seq>` the child printed so far. */
  durable: number[];
  stderr: string[];
  /** Resolves when the first durable line arrives (or the child exits). */
  firstDurable: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function spawnAppend(args: string[]): Promise<AppendChild> {
  const cli = await bundledCli();
  const child = spawn(process.execPath, [cli, 'series', 'append', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const durable: number[] = [];
  const stderr: string[] = [];
  let partial = '';
  let onFirst: () => void = () => undefined;
  const firstDurable = new Promise<void>((r) => {
    onFirst = r;
  });
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    partial += s;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const m = /^durable (\d+)$/.exec(line);
      if (!m) throw new Error(`unexpected output line: ${line}`);
      durable.push(Number(m[1]));
      onFirst();
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => stderr.push(s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('close', (code, signal) => {
      onFirst();
      r({ code, signal });
    }),
  );
  return { child, durable, stderr, firstDurable, exited };
}

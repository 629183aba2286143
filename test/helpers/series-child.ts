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
const CACHE = join(ROOT, 'node_modules/.cache/dameso-series');
const built = new Map<string, Promise<string>>();

/** Bundle `entry` (relative to the repo) once per process into the cache folder; returns its path. */
export function bundle(entry: string, name: string): Promise<string> {
  let p = built.get(name);
  if (!p) {
    p = (async () => {
      await mkdir(CACHE, { recursive: true });
      const outfile = join(CACHE, name);
      await build({
        entryPoints: [join(ROOT, entry)],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        packages: 'external',
        outfile,
        logLevel: 'silent',
      });
      return outfile;
    })();
    built.set(name, p);
  }
  return p;
}

/** Only the series commands (fast start, for the many kill cycles). */
export function bundledCli(): Promise<string> {
  return bundle('test/helpers/series-cli-main.ts', 'series-main.mjs');
}

/** The real `dameso` (`src/cli/main.ts`: every command, typed errors mapped to exit codes). */
export function bundledMain(): Promise<string> {
  return bundle('src/cli/main.ts', 'main.mjs');
}

export interface RunResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Run `dameso …args` to completion. */
export async function runDameso(args: string[]): Promise<RunResult> {
  const cli = await bundledMain();
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: string[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => err.push(s));
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  return { code, stdout: Buffer.concat(out), stderr: err.join('') };
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

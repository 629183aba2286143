/**
 * A fleet of real `dameso node` processes for the survey field test: spawn, wait for the start
 * line, read a running node's series read-only, poll with a deadline that fails.
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { SERIES_SUBDIR } from '../../src/node/constants.js';
import { createSeries } from '../../src/series/index.js';
import type { Entry } from '../../src/series/types.js';
import { type CliResult, finished, printed, spawnCli } from './node-cli.js';

export interface FleetNode {
  id: string;
  dir: string;
  child: ChildProcess;
  done: Promise<CliResult>;
}

/** Starts `dameso node --id ID --data DIR …args`; resolves once it printed its start line. */
export async function startNode(id: string, dir: string, args: string[]): Promise<FleetNode> {
  const child = spawnCli(['node', '--id', id, '--data', dir, '--log-level', 'warn', ...args]);
  const done = finished(child);
  await printed(child, 'online');
  return { id, dir, child, done };
}

/** Every entry of a node's series, opened read-only (safe beside the running node). */
export async function readSeries(dir: string, event?: string | string[]): Promise<Entry[]> {
  const series = createSeries({ dir: path.join(dir, SERIES_SUBDIR), readOnly: true });
  await series.open();
  const out: Entry[] = [];
  try {
    for await (const e of series.read(event === undefined ? {} : { event })) out.push(e);
  } finally {
    await series.close();
  }
  return out;
}

/**
 * Calls `probe` until it returns a value (not undefined), `everyMs` apart; throws with `what` and
 * the last thing seen once `timeoutMs` passed (a failed wait fails the test).
 */
export async function pollFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const start = performance.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (performance.now() - start > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

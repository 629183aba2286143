/** `dameso fleet` run as a real command for the end-to-end tests: its JSON summary, and whether a pid it started is gone. */
import { expect } from 'vitest';
import type { FleetSummary } from '../../src/fleet/run.js';
import { runCli } from './node-cli.js';

/** True while `pid` exists (EPERM: it exists but belongs to someone else). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `dameso fleet --json …args`; the summary is its last stdout line (the test fails if that is not JSON). */
export async function runFleetJson(
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; summary: FleetSummary; stderr: string }> {
  const r = await runCli(['fleet', '--json', ...args], timeoutMs);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  expect(last, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toMatch(/^\{/);
  return { code: r.code, summary: JSON.parse(last) as FleetSummary, stderr: r.stderr };
}

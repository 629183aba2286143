/**
 * `dameso fleet` end to end: the real command in a child process (tsx), real `dameso node` children
 * and an embedded broker child. Checks the summary against the series on disk, the restarts, and
 * that no child process is left behind (every pid it started is gone once it exited).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetSummary } from '../../src/fleet/run.js';
import { alive, runFleetJson } from '../helpers/fleet-cli.js';
import { finished, runCli, spawnCli } from '../helpers/node-cli.js';
import { readSeries } from '../helpers/survey-field.js';

const RUN_TIMEOUT_MS = 60_000;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'dameso-fleet-test-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Pids whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1] === String(pid);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

const fleet = (args: string[]) => runFleetJson(args, RUN_TIMEOUT_MS);

/** The requester's outcomes on disk: one per closed intent, none counting more peers than expected. */
async function expectOutcomesConsistent(s: FleetSummary): Promise<void> {
  const outcomes = await readSeries(path.join(s.dataDir, 'fleet-requester'), 'intent_outcome');
  expect(outcomes.length).toBeGreaterThanOrEqual(s.closed);
  expect(new Set(outcomes.map((o) => o.id)).size).toBe(outcomes.length);
  for (const o of outcomes) {
    const n = (k: string) => (o[k] as unknown[]).length;
    const fromExpected = [...(o.yes as { x?: true }[]), ...(o.no as { x?: true }[])].filter((r) => !r.x).length;
    expect(fromExpected + n('silence') + n('offline')).toBeLessThanOrEqual(n('expected'));
  }
}

describe('dameso fleet', () => {
  it(
    'runs 3 node processes (--procs-per-node) against an embedded broker: exit 0, consistent counts, integrity ok, no child left',
    async () => {
      const data = path.join(root, 'plain');
      const { code, summary: s } = await fleet([
        '--nodes',
        '3',
        '--procs-per-node',
        '--roles',
        'bt',
        '--duration',
        '2',
        '--rate',
        '20',
        '--data',
        data,
      ]);
      expect(s.failures).toEqual([]);
      expect(code).toBe(0);
      expect(s.ok).toBe(true);
      expect(s.declared).toBeGreaterThan(10);
      expect(s.closed).toBeLessThanOrEqual(s.declared);
      expect(s.yes + s.no + s.silence + s.offline).toBeLessThanOrEqual(s.expected);
      expect(s.overCounted).toBe(0);
      expect(s.yes).toBeGreaterThan(0); // pushed chunks are stored and found again
      expect(s.series.map((x) => [x.id, x.sound])).toEqual([
        ['fleet-0', true],
        ['fleet-1', true],
        ['fleet-2', true],
      ]);
      expect(s.requesterOutcomes).toMatchObject({ missing: 0, duplicated: 0, unknown: 0 });
      await expectOutcomesConsistent(s);
      expect(s.pids.length).toBe(4); // the broker and three nodes
      for (const pid of s.pids) expect(alive(pid), `pid ${pid}`).toBe(false);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'with --kill-every, SIGKILLs and restarts nodes: session counter up, series reopened sound, integrity ok',
    async () => {
      // The first test's folders, reused: series reopen with earlier sessions and earlier outcomes.
      const data = path.join(root, 'plain');
      const { code, summary: s } = await fleet([
        '--nodes',
        '3',
        '--procs-per-node',
        '--roles',
        'bt',
        '--duration',
        '3',
        '--rate',
        '20',
        '--kill-every',
        '1',
        '--data',
        data,
      ]);
      expect(s.failures).toEqual([]);
      expect(code).toBe(0);
      expect(s.restarts.length).toBeGreaterThanOrEqual(1);
      for (const r of s.restarts) expect(r.sessionAfter).toBeGreaterThan(r.sessionBefore);
      // On disk too: the restarted node's series holds one more session than it had before the kill.
      const first = s.restarts[0]!;
      expect(first.sessionBefore).toBeGreaterThanOrEqual(2); // the folder's first run was session 1
      const sessions = await readSeries(path.join(data, first.id), 'session_started');
      expect(sessions.length).toBeGreaterThanOrEqual(first.sessionAfter);
      expect(s.series.every((x) => x.sound)).toBe(true);
      expect(s.requesterOutcomes).toMatchObject({ missing: 0, duplicated: 0, unknown: 0 });
      await expectOutcomesConsistent(s);
      expect(s.pids.length).toBe(4 + s.restarts.length);
      for (const pid of s.pids) expect(alive(pid), `pid ${pid}`).toBe(false);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'stops cleanly on SIGINT (Ctrl-C) before --duration: summary printed, no child left',
    async () => {
      const data = path.join(root, 'sigint');
      const child = spawnCli([
        'fleet',
        '--nodes',
        '2',
        '--procs-per-node',
        '--roles',
        'bt',
        '--duration',
        '600',
        '--rate',
        '10',
        '--data',
        data,
      ]);
      const done = finished(child);
      // The first progress line (stderr) means every node is up and intents are being declared.
      await new Promise<void>((resolve) => {
        const onData = (d: Buffer) => {
          if (/declared=\d+/.test(d.toString())) {
            child.stderr?.off('data', onData);
            resolve();
          }
        };
        child.stderr?.on('data', onData);
      });
      const kids = childrenOf(child.pid ?? -1);
      expect(kids.length).toBe(3); // the broker and two nodes
      child.kill('SIGINT');
      const r = await done;
      expect(r.stdout, r.stderr).toMatch(/integrity ok/);
      expect(r.code).toBe(0);
      for (const pid of kids) expect(alive(pid), `pid ${pid}`).toBe(false);
    },
    RUN_TIMEOUT_MS,
  );

  it('refuses bad flags before starting anything: 64 for a usage error, 78 for an unknown role', async () => {
    const bad = await runCli(['fleet', '--nodes', '0']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/--nodes must be a number/);
    const role = await runCli(['fleet', '--roles', 'bt,nope']);
    expect(role.code).toBe(78);
    expect(role.stderr).toMatch(/unknown role/);
  });
});

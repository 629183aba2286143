/**
 * `dameso fleet` with nodes hosted K per worker process: the real command in a child process (tsx),
 * real worker processes, an embedded broker child (with a users file when --auth), a real external
 * `dameso broker --auth-file`. Checks the summary against the folders on disk, a worker SIGKILLed
 * and restarted, the shared roster, and that no child is left behind.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, runFleetJson } from '../helpers/fleet-cli.js';
import { finished, runCli, spawnCli } from '../helpers/node-cli.js';
import { readSeries } from '../helpers/survey-field.js';

const RUN_TIMEOUT_MS = 90_000;
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'dameso-fleet-workers-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const fleet = (args: string[]) => runFleetJson(args, RUN_TIMEOUT_MS);

describe('dameso fleet in worker processes', () => {
  it(
    '30 nodes in 3 workers: every node up and sound, one roster per worker, outcomes consistent, no child left',
    async () => {
      const data = path.join(root, 'thirty');
      const { code, summary: s } = await fleet(
        ['--nodes', '30', '--roles', 'bt', '--per-process', '10', '--duration', '2', '--rate', '10'].concat([
          '--data',
          data,
        ]),
      );
      expect(s.failures).toEqual([]);
      expect(code).toBe(0);
      expect(s.hosting).toBe('workers');
      expect(s.hosts).toBe(3);
      expect(s.hostUsage.map((h) => h.nodes)).toEqual([10, 10, 10]);
      expect(s.series.filter((x) => x.sound).length).toBe(30);
      expect(s.declared).toBeGreaterThan(5);
      expect(s.yes).toBeGreaterThan(0);
      expect(s.overCounted).toBe(0);
      expect(s.requesterOutcomes).toMatchObject({ missing: 0, duplicated: 0, unknown: 0 });
      // Every node its own session and connection: one session_started per node folder.
      for (const id of ['fleet-0', 'fleet-15', 'fleet-29'])
        expect((await readSeries(path.join(data, id), 'session_started')).length).toBe(1);
      // The roster is kept once per worker (its own series records the peers), not once per node.
      expect((await readSeries(path.join(data, 'fleet-worker-0'), 'peer_added')).length).toBeGreaterThanOrEqual(30);
      expect((await readSeries(path.join(data, 'fleet-7'), 'peer_added')).length).toBe(0);
      expect(s.samples.length).toBeGreaterThanOrEqual(1);
      expect(s.samples.at(-1)?.hosts.length).toBe(3);
      expect(s.pids.length).toBe(4); // the broker and three workers
      for (const pid of s.pids) expect(alive(pid), `pid ${pid}`).toBe(false);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'a worker SIGKILLed by --kill-every comes back: each of its nodes with a higher session, series sound',
    async () => {
      const data = path.join(root, 'kill');
      const { code, summary: s } = await fleet(
        [
          '--nodes',
          '8',
          '--roles',
          'bt',
          '--per-process',
          '4',
          '--duration',
          '3',
          '--rate',
          '10',
          '--kill-every',
          '1.5',
        ].concat(['--data', data]),
      );
      expect(s.failures).toEqual([]);
      expect(code).toBe(0);
      expect(s.restarts.length).toBeGreaterThanOrEqual(4);
      // A kill takes a whole worker: its four nodes restart together, each with a higher session.
      const first = s.restarts.filter((r) => r.pid === s.restarts[0]!.pid);
      expect(first.length).toBe(4);
      for (const r of s.restarts) expect(r.sessionAfter).toBeGreaterThan(r.sessionBefore);
      expect((await readSeries(path.join(data, first[0]!.id), 'session_started')).length).toBeGreaterThanOrEqual(2);
      expect(s.series.every((x) => x.sound)).toBe(true);
      expect(s.requesterOutcomes).toMatchObject({ missing: 0, duplicated: 0, unknown: 0 });
      for (const pid of s.pids) expect(alive(pid), `pid ${pid}`).toBe(false);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    '--auth: per-client credentials and a users file; the embedded broker and an external `dameso broker --auth-file` accept them',
    async () => {
      const data = path.join(root, 'auth');
      const first = await fleet([
        '--nodes',
        '4',
        '--roles',
        'bt',
        '--per-process',
        '2',
        '--duration',
        '1',
        '--auth',
        '--data',
        data,
      ]);
      expect(first.summary.failures).toEqual([]);
      expect(first.code).toBe(0);
      const users = path.join(data, 'credentials', 'users');
      expect(first.summary.usersFile).toBe(users);
      const lines = (await readFile(users, 'utf8')).trim().split('\n');
      expect(lines.map((l) => l.split(':')[0]).sort()).toEqual(
        ['fleet-0', 'fleet-1', 'fleet-2', 'fleet-3', 'fleet-requester', 'fleet-worker-0', 'fleet-worker-1'].sort(),
      );
      expect(readdirSync(path.join(data, 'credentials')).filter((f) => f.endsWith('.secret')).length).toBe(7);
      // The same users file handed to a broker of its own: the fleet reuses its passwords.
      const broker = spawnCli(['broker', '--port', '0', '--json', '--stats-ms', '0', '--auth-file', users]);
      const done = finished(broker);
      try {
        const port = await new Promise<number>((resolve) => {
          broker.stdout?.on('data', (d: Buffer) => {
            const m = /"port":(\d+)/.exec(d.toString());
            if (m) resolve(Number(m[1]));
          });
        });
        const url = `mqtt://127.0.0.1:${port}`;
        const again = await fleet([
          '--nodes',
          '4',
          '--roles',
          'bt',
          '--per-process',
          '2',
          '--duration',
          '1',
          '--auth',
          '--broker',
          url,
          '--data',
          data,
        ]);
        expect(again.summary.failures).toEqual([]);
        expect(again.code).toBe(0);
        expect(again.summary.yes).toBeGreaterThan(0);
        // A wrong shared password: refused before any node starts, in one line.
        const wrong = path.join(root, 'wrong.secret');
        await writeFile(wrong, 'not-the-password\n', { mode: 0o600 });
        const refused = await runCli(
          [
            'fleet',
            '--nodes',
            '2',
            '--auth',
            '--password-file',
            wrong,
            '--broker',
            url,
            '--data',
            path.join(root, 'other'),
          ],
          RUN_TIMEOUT_MS,
        );
        expect(refused.code).toBe(78);
        expect(refused.stderr.trim().split('\n')).toHaveLength(1);
        expect(refused.stderr).toMatch(/refused fleet-requester's password.*credentials\/users.*\[DAMESO_BAD_CONFIG\]/);
      } finally {
        broker.kill('SIGTERM');
        await done;
      }
    },
    RUN_TIMEOUT_MS * 2,
  );

  it(
    'on a terminal: a progress bar rewritten in place while the nodes come up, then the live line; plain lines in a pipe',
    async () => {
      const data = path.join(root, 'tty');
      const command = [
        process.execPath,
        '--import',
        'tsx',
        MAIN,
        'fleet',
        '--nodes',
        '4',
        '--roles',
        'bt',
        '--per-process',
        '2',
      ]
        .concat(['--duration', '2', '--rate', '5', '--data', data])
        .join(' ');
      // `script` runs the command on a pseudo-terminal: its stderr is a TTY, as in an SSH session.
      const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const guard = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS); // a hang guard
      const { code, stdout } = await finished(child);
      clearTimeout(guard);
      expect(code, stdout).toBe(0);
      expect(stdout).toMatch(/\r\[#{30}\] 4\/4 nodes up/);
      expect(stdout).toMatch(/\rt=[\d.]+s live=4 /);
      expect(stdout).not.toMatch(/nodes up\r?\n\[/); // the bar is rewritten, not printed line after line
      expect(stdout).toMatch(/integrity ok/);
      // In a pipe: plain lines, no carriage return.
      const piped = await runCli(
        ['fleet', '--nodes', '4', '--roles', 'bt', '--per-process', '2', '--duration', '2'],
        RUN_TIMEOUT_MS,
      );
      expect(piped.code).toBe(0);
      expect(piped.stderr).toMatch(/^\[#{30}\] 4\/4 nodes up$/m);
      expect(piped.stderr).not.toContain('\r');
    },
    RUN_TIMEOUT_MS * 2,
  );

  it('bad hosting flags: one coded line, exit 64, nothing started', async () => {
    const rows: Array<[string[], RegExp]> = [
      [['--roles', 'bt', '--per-process', '0'], /--per-process must be a number/],
      [['--roles', 'bt', '--per-process', '5', '--procs-per-node'], /--procs-per-node and --per-process/],
      [['--connect-rate', '0'], /--connect-rate must be a number/],
      [['--password-file', '/nonexistent'], /--password-file needs --auth/],
      [['--nodes', '100000'], /--nodes must be a number/],
    ];
    for (const [args, says] of rows) {
      const r = await runCli(['fleet', '--duration', '1', ...args]);
      expect(r.code, args.join(' ')).toBe(64);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/\[DAMESO_USAGE\]/);
      expect(lines[0]).toMatch(says);
    }
  });

  it('--help teaches the hosting flags with examples', async () => {
    const r = await runCli(['fleet', '--help']);
    expect(r.code).toBe(0);
    for (const s of ['--per-process 150', '--procs-per-node', '--connect-rate 100', '--auth', '--baseline-worker']) {
      expect(r.stdout).toContain(s);
    }
  });
});

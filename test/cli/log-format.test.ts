/**
 * A real `dameso node` child: without a terminal its log lines are JSON (what journald stores);
 * `--log-format pretty` gives human lines (no colours: stderr is not a terminal); a bad value is a
 * usage error. On a real terminal (a pseudo-terminal from util-linux `script`) `dameso field`
 * writes coloured human lines by itself.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import { finished, runCli, spawnCli } from '../helpers/node-cli.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** Runs an embedded-broker node until it logs `transport: connected`, stops it, returns its stderr lines. */
async function nodeLogLines(extra: string[]): Promise<string[]> {
  const data = await mkdtemp(path.join(os.tmpdir(), 'dameso-log-'));
  dirs.push(data);
  const child: ChildProcess = spawnCli([
    'node',
    '--id',
    'log-1',
    '--broker',
    'embedded',
    '--embedded-port',
    '0',
    '--data',
    data,
    ...extra,
  ]);
  const done = finished(child);
  const guard = setTimeout(() => child.kill('SIGKILL'), 20_000); // a hang guard
  await new Promise<void>((resolve) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('transport: connected')) resolve();
    });
    child.once('exit', () => resolve());
  });
  child.kill('SIGTERM');
  const { stderr } = await done;
  clearTimeout(guard);
  return stderr.split('\n').filter((l) => l !== '');
}

test('no terminal: every log line is one JSON object', async () => {
  const lines = await nodeLogLines([]);
  const connected = lines.filter((l) => l.includes('transport: connected'));
  expect(connected).toHaveLength(1);
  for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  expect(JSON.parse(connected[0]!)).toMatchObject({ level: 30, msg: 'transport: connected', session: 1 });
});

test('--log-format pretty: time, level, message, key=values, no colours off a terminal', async () => {
  const lines = await nodeLogLines(['--log-format', 'pretty']);
  const connected = lines.filter((l) => l.includes('transport: connected'));
  expect(connected).toHaveLength(1);
  expect(connected[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}transport: connected .*session=1/);
  expect(lines.join('\n')).not.toContain('\u001b[');
});

test('a bad --log-format or --log-level is one usage line, exit 64', async () => {
  for (const args of [
    ['--log-format', 'loud'],
    ['--log-level', 'chatty'],
  ]) {
    const r = await runCli(['node', '--id', 'log-2', '--broker', 'mqtt://127.0.0.1:1', ...args]);
    expect(r.code).toBe(64);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(args[0]);
  }
});

test('on a terminal: coloured human lines, no JSON', async () => {
  const command = [process.execPath, '--import', 'tsx', MAIN, 'field', '--nodes', '2', '--duration', '1']
    .concat(['--rate', '2', '--log-level', 'info'])
    .join(' ');
  // `script` runs the command on a pseudo-terminal: its stderr is a TTY, as in an SSH session.
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: undefined },
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000); // a hang guard
  const { code, stdout } = await finished(child);
  clearTimeout(guard);
  expect(code).toBe(0);
  const lines = stdout.split(/\r?\n/).filter((l) => l.includes('transport: connected'));
  expect(lines).toHaveLength(2);
  const ESC = '\u001b';
  const sgr = new RegExp(`${ESC}\\[\\d+m`, 'g');
  for (const line of lines) {
    expect(line).toContain(`${ESC}[32mINFO ${ESC}[0m transport: connected `); // the level in green
    expect(line).toContain(`${ESC}[2mnode=${ESC}[0mfield-`); // keys dimmed
    expect(line.replace(sgr, '')).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}transport: connected node=field-\d session=1 /,
    );
  }
  expect(stdout).not.toMatch(/^\{"level"/m);
});

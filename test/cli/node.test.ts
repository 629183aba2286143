import { expect, test } from 'vitest';
import { finished, printed, spawnCli } from '../helpers/node-cli.js';
import { aedesSuite, until } from '../helpers/node-fixtures.js';

const suite = aedesSuite();
const { pool } = suite;

test('dameso node runs until SIGTERM and stops cleanly (offline presence, exit 0)', async () => {
  const watcher = await pool.start(suite.url, 'watcher');
  const child = spawnCli([
    'node',
    '--id',
    'n1',
    '--roles',
    'bt,mapper',
    '--broker',
    suite.url,
    '--data',
    await pool.dir(),
    '--log-level',
    'warn',
  ]);
  const done = finished(child);
  await printed(child, 'online');
  await until(() => watcher.roster.get('n1')?.online === true);
  expect(watcher.roster.get('n1')?.roles).toEqual(['bt', 'mapper']);
  // It answers: nobody holds the chunk, so silence — but it is expected, and gated by its limiters.
  const o = await watcher.declare('want_chunk', { subject: 'f'.repeat(64), deadlineMs: 300 });
  expect(o.expected).toEqual(['n1']);
  child.kill('SIGTERM');
  const r = await done;
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/node n1 stopped/);
  await until(() => watcher.roster.get('n1')?.online === false, 10_000, 'offline record');
});

import net from 'node:net';
import { expect, test } from 'vitest';
import { finished, printed, runCli, spawnCli } from '../helpers/node-cli.js';
import { aedesSuite } from '../helpers/node-fixtures.js';
import { get, sample } from './scrape.js';

const suite = aedesSuite();
const { pool } = suite;

const nodeArgs = async (id: string) => [
  'node',
  '--id',
  id,
  '--broker',
  suite.url,
  '--data',
  await pool.dir(),
  '--log-level',
  'warn',
];

/** `dameso node ARGS --metrics-port 0` started: the child, its exit, and the metrics URL it printed. */
async function nodeWithMetrics(args: string[]) {
  const child = spawnCli([...args, '--metrics-port', '0']);
  const done = finished(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await printed(child, 'Ctrl-C');
  const url = /metrics (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(out)?.[1];
  expect(url, out).toBeDefined();
  return { child, done, url: url ?? '' };
}

test('dameso node --metrics-port 0: prints the URL, serves the node, closes it at SIGTERM', async () => {
  const { child, done, url } = await nodeWithMetrics(await nodeArgs('m1'));
  const r = await get(url);
  expect(r.status).toBe(200);
  expect(sample(r.body, 'dameso_transport_connected', { node: 'm1' })).toBe(1);
  expect(sample(r.body, 'dameso_intents_declared_total', { node: 'm1' })).toBe(0);
  // Its chunk store is there (the CLI node runs the chunks service), empty.
  expect(sample(r.body, 'dameso_chunks_stored', { node: 'm1' })).toBe(0);
  expect(sample(r.body, 'dameso_limiter_value', { node: 'm1', limiter: 'memory' })).toBeGreaterThan(0);
  child.kill('SIGTERM');
  expect((await done).code).toBe(0);
  await expect(get(url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
});

test("dameso node --broker embedded --metrics-port 0: serves its embedded broker's counters too", async () => {
  const args = ['node', '--id', 'm9', '--broker', 'embedded', '--embedded-port', '0', '--data', await pool.dir()];
  const { child, done, url } = await nodeWithMetrics([...args, '--log-level', 'warn']);
  const r = await get(url);
  expect(sample(r.body, 'dameso_transport_connected', { node: 'm9' })).toBe(1);
  // The node's own connection (and its presence and sync records) went through it.
  expect(sample(r.body, 'dameso_broker_connections', { broker: 'm9' })).toBe(1);
  expect(sample(r.body, 'dameso_broker_publishes_passed_total', { broker: 'm9' })).toBeGreaterThan(0);
  child.kill('SIGTERM');
  expect((await done).code).toBe(0);
});

test('bad metrics flags: one line, exit 64; a port already taken: exit 78', async () => {
  const bad = await runCli([...(await nodeArgs('m2')), '--metrics-port', 'abc']);
  expect(bad.code).toBe(64);
  expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  expect(bad.stderr).toMatch(/--metrics-port must be a port number/);
  const hostOnly = await runCli([...(await nodeArgs('m3')), '--metrics-host', '0.0.0.0']);
  expect(hostOnly.code).toBe(64);
  expect(hostOnly.stderr).toMatch(/--metrics-host needs --metrics-port/);

  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  try {
    const port = (taken.address() as net.AddressInfo).port;
    const r = await runCli([...(await nodeArgs('m4')), '--metrics-port', String(port)]);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/metrics-port.*EADDRINUSE/);
  } finally {
    await new Promise<void>((resolve) => taken.close(() => resolve()));
  }
});

test('--help explains the metrics flags with a curl example', async () => {
  const r = await runCli(['node', '--help']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/--metrics-port <port>/);
  expect(r.stdout).toContain('curl -s localhost:9464/metrics | grep dameso_');
});

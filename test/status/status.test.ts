/**
 * A node's status and health: `/healthz` and `/status` on a real node's metrics port while its
 * real broker goes away and comes back, and `dameso status` (a real child process) on a data folder
 * beside the running node, after it stopped, and on bad input.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { createBrokerHost } from '../../broker/index.js';
import { statusUrl } from '../../src/cli/status.js';
import { serveNodeMetrics } from '../../src/metrics/cli.js';
import type { MetricsServer } from '../../src/metrics/http.js';
import type { DamesoNode } from '../../src/node.js';
import { createSeries } from '../../src/series/index.js';
import { healthOf, type NodeStatus, type StatusNode, statusFromData, statusLines } from '../../src/status/index.js';
import { runCli } from '../helpers/node-cli.js';
import { NodePool } from '../helpers/node-fixtures.js';
import { get } from '../metrics/scrape.js';

let host: ReturnType<typeof createBrokerHost>;
let url: string;
let pool: NodePool;
const servers: MetricsServer[] = [];

beforeEach(async () => {
  host = createBrokerHost({ host: '127.0.0.1', port: 0 });
  url = (await host.start()).url;
  pool = new NodePool();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await pool.cleanup();
  await host.stop();
});

/** GETs `path` until `status` answers; fails after `timeoutMs` (a hang guard, not a timing claim). */
async function untilStatus(base: string, path: string, status: number, timeoutMs = 15_000) {
  const started = performance.now();
  for (;;) {
    const r = await get(`${base}${path}`);
    if (r.status === status) return r;
    if (performance.now() - started > timeoutMs) throw new Error(`${path} still ${r.status}: ${r.body}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function served(node: DamesoNode): Promise<string> {
  const server = await serveNodeMetrics(node, { port: 0, host: '127.0.0.1' });
  servers.push(server);
  return server.url.replace(/\/metrics$/, '');
}

test('/healthz: 200 ok while connected; 503 with the reason while the broker is down; 200 again when back', async () => {
  const node = await pool.start(url, 'h1', { roles: ['bt'] });
  const base = await served(node);
  const ok = await get(`${base}/healthz`);
  expect(ok).toMatchObject({ status: 200, body: 'ok\n' });

  await host.stop();
  const down = await untilStatus(base, '/healthz', 503);
  expect(down.body).toMatch(
    /^broker: reconnecting since \d{4}-\d\d-\d\dT[\d:.]+Z \(.+, mqtt:\/\/127\.0\.0\.1:\d+\)\n$/,
  );
  const live = JSON.parse((await get(`${base}/status`)).body) as NodeStatus;
  expect(live.connection).toMatchObject({ state: 'reconnecting', reason: expect.any(String) });

  await host.start();
  expect(await untilStatus(base, '/healthz', 200)).toMatchObject({ body: 'ok\n' });
  // /metrics is still there beside them.
  expect((await get(`${base}/metrics`)).body).toContain('dameso_transport_connected{node="h1"} 1');
});

test('health names a failed series write', () => {
  const node = {
    transport: { connection: () => ({ state: 'online', broker: 'mqtt://x:1', since: 0 }) },
    seriesFailure: new Error('ENOSPC: no space left on device'),
    series: { stats: () => ({ damagedRecords: 0 }) },
  } as unknown as StatusNode;
  expect(healthOf(node)).toEqual({
    ok: false,
    problems: ['series: write failed: ENOSPC: no space left on device'],
    warnings: [],
  });
});

test('/status: the live values of the running node as one JSON object', async () => {
  const node = await pool.start(url, 'h2', { roles: ['bt'], gate: undefined });
  await pool.start(url, 'peer', { roles: ['bt'] });
  const base = await served(node);
  const r = await get(`${base}/status`);
  expect(r.status).toBe(200);
  expect(r.contentType).toBe('application/json');
  const s = JSON.parse(r.body) as NodeStatus;
  expect(s).toMatchObject({
    node: 'h2',
    roles: ['bt'],
    source: 'live',
    pid: process.pid,
    session: 1,
    broker: url,
    connection: { state: 'online' },
    survey: null,
    board: 'generic',
  });
  expect(s.roster.known).toBeGreaterThanOrEqual(1);
  // A survey recorded after start is in the next /status, from the node's status view.
  await node.series.append({
    event: 'survey',
    round: 1,
    cells: Array.from({ length: 40 }, (_, i) => `u${i}`),
    outcome: 'done',
  });
  const after = JSON.parse((await get(`${base}/status`)).body) as NodeStatus;
  expect(after.survey).toMatchObject({ round: 1, outcome: 'done', cells_total: 40 });
  expect(after.survey?.cells).toHaveLength(32);
  expect(s.limiters.values?.memory).toBeGreaterThan(0);
  expect(s.series.headroomBytes).toBe((s.series.budgetBytes ?? 0) - s.series.bytes);
});

test('dameso status --data beside a running node, then after it stopped: recorded survey, backup lag, size', async () => {
  const dataDir = await pool.dir();
  const node = await pool.start(url, 'd1', { dataDir, roles: ['bt'], gate: undefined });
  const survey = await node.series.append({
    event: 'survey',
    round: 3,
    cells: ['u09tv'],
    outcome: 'skipped',
    reason: 'cpu_busy',
    consensus: 0,
    low_confidence: 0,
    responders: 0,
    elapsed_ms: 0,
  });
  await node.series.append({ event: 'chunk_pushed', id: 'a'.repeat(64), first_seq: 1, last_seq: 4 });
  await node.series.append({
    event: 'backup',
    state: 'waiting',
    k: 3,
    online: 1,
    mark: 4,
    reason: 'too_few_storage_nodes',
  });
  await node.series.flush();

  const running = await runCli(['status', '--data', dataDir, '--json']);
  expect(running.code, running.stderr).toBe(0);
  const s = JSON.parse(running.stdout) as NodeStatus;
  expect(s).toMatchObject({
    node: 'd1',
    roles: ['bt'],
    source: 'data',
    pid: process.pid, // this process holds the series lock
    session: 1,
    broker: url,
    connection: { state: 'online' },
    survey: { round: 3, outcome: 'skipped', reason: 'cpu_busy' },
    backup: { pushedToSeq: 4, last: { state: 'waiting', k: 3, online: 1 } },
    board: 'generic',
  });
  // The chunk_pushed and backup entries after the survey are replication's bookkeeping: no lag.
  expect(s.backup.lagEntries).toBe(survey.seq - 4);
  expect(s.series.lastSeq).toBeGreaterThan(survey.seq);
  // The node's status view held both: nothing was searched for.
  expect(s.scannedEntries).toBe(0);
  expect(s.series.bytes).toBeGreaterThan(0);
  expect(s.series.headroomBytes).toBe((s.series.budgetBytes ?? 0) - s.series.bytes);

  await node.stop();
  const stopped = await runCli(['status', '--data', dataDir]);
  expect(stopped.code, stopped.stderr).toBe(0);
  const rows = Object.fromEntries(
    stopped.stdout
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, 12).trim(), l.slice(12).trim()]),
  );
  expect(rows).toMatchObject({
    node: 'd1',
    roles: 'bt',
    process: 'not running',
    broker: url,
    'last survey': expect.stringMatching(/^round 3, skipped \(cpu_busy\), consensus 0 at /),
    backup: expect.stringMatching(
      /^waiting, K=3, 1 storage online, too_few_storage_nodes since .*; pushed to seq 4, lag \d+ entries$/,
    ),
    board: 'generic',
  });
  expect(rows.connection).toMatch(/^last recorded: stopped since /);
  expect(rows.series).toMatch(/^[\d.]+ KiB in 1 segment\(s\) of 256\.0 MiB, headroom 25\d\.\d MiB; seq 1\.\.\d+$/);
});

test('dameso status: a folder that is no node data folder, an unreachable --metrics, bad flags: one line each', async () => {
  const empty = await pool.dir();
  const notData = await runCli(['status', '--data', empty]);
  expect(notData.code).toBe(65);
  expect(notData.stderr.trim().split('\n')).toHaveLength(1);
  expect(notData.stderr).toMatch(/\[DAMESO_NOT_A_SERIES\]/);
  const missing = await runCli(['status', '--data', `${empty}/nowhere`]);
  expect(missing.code).toBe(65);

  const closed = await runCli(['status', '--metrics', 'http://127.0.0.1:1']);
  expect(closed.code).toBe(69);
  expect(closed.stderr.trim().split('\n')).toHaveLength(1);
  expect(closed.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1\/status .*\[DAMESO_METRICS_UNREACHABLE\]/);

  for (const args of [[], ['--data', empty, '--metrics', 'http://127.0.0.1:1']]) {
    const r = await runCli(['status', ...args]);
    expect(r.code, args.join(' ')).toBe(64);
    expect(r.stderr.trim().split('\n')[0]).toMatch(/\[DAMESO_USAGE\]/);
  }
});

test('text mode: one aligned key/value line per field, "never" for a node that never surveyed', () => {
  const s: NodeStatus = {
    node: 'x',
    roles: [],
    source: 'data',
    pid: null,
    session: 0,
    broker: null,
    connection: { state: null, since: null, reason: null },
    roster: { online: 0, known: 0 },
    survey: null,
    backup: { pushedToSeq: 0, lastSeq: 1, lagEntries: 1, last: null },
    limiters: { values: null, decisions: 0, yes: 0, no: {}, last: null },
    series: {
      bytes: 10,
      segments: 1,
      firstSeq: 1,
      lastSeq: 1,
      budgetBytes: null,
      headroomBytes: null,
      damagedRecords: 0,
    },
    board: null,
    device: null,
    supervise: null,
    scannedEntries: 1,
  };
  const lines = statusLines(s);
  expect(lines).toHaveLength(13);
  // Every value starts in one column, after the longest key and two spaces.
  expect(lines.filter((l) => !/^.{11} {2}\S/.test(l))).toEqual([]);
  expect(lines).toContain('last survey  never');
  expect(lines).toContain('connection   none recorded');
});

test('--metrics takes the metrics URL as printed, the port alone or /status; anything but http(s) is a usage error', () => {
  for (const given of ['http://127.0.0.1:9464', 'http://127.0.0.1:9464/', 'http://127.0.0.1:9464/metrics']) {
    expect(statusUrl(given).href).toBe('http://127.0.0.1:9464/status');
  }
  expect(() => statusUrl('nope')).toThrow(expect.objectContaining({ code: 'DAMESO_USAGE' }));
  expect(() => statusUrl('mqtt://127.0.0.1:1883')).toThrow(expect.objectContaining({ code: 'DAMESO_USAGE' }));
});

test('a series written without the status view: its newest survey and backup entries are searched for', async () => {
  const dataDir = await pool.dir();
  const series = createSeries({ dir: join(dataDir, 'series'), durability: 'none' });
  await series.open();
  await series.append({ event: 'survey', round: 1, outcome: 'failed', reason: 'no_cells' });
  await series.append({ event: 'survey', round: 2, outcome: 'done', consensus: 4 });
  for (let i = 0; i < 50; i++) series.record({ event: 'decision', r: 'yes' });
  await series.close();
  const s = await statusFromData(dataDir);
  expect(s.survey).toMatchObject({ round: 2, outcome: 'done', consensus: 4 });
  expect(s.backup.last).toBeNull();
  expect(s.scannedEntries).toBe(s.series.lastSeq);
  expect(s).toMatchObject({ node: null, pid: null, connection: { state: null } });
});

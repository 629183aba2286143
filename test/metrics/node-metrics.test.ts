import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { createMetrics, type MetricsServer, nodeSource, startMetricsServer } from '../../src/metrics/index.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { fixedHandler, NodePool, until, YES } from '../helpers/node-fixtures.js';
import { get, sample } from './scrape.js';

const pool = new NodePool();
let broker: BrokerHandle;
const servers: MetricsServer[] = [];
beforeAll(async () => {
  broker = await startAedes();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await pool.cleanup();
});
afterAll(() => broker.stop());

test('a node declaring 3 intents: the scraped counters are its stats()', async () => {
  const bt = await pool.start(broker.url, 'bt1', {
    roles: ['bt'],
    handlers: [fixedHandler('want_chunk', 'bt', YES())],
  });
  // The requester keeps its own limiters (no gate option), so the limiter gauges are there.
  const req = await pool.start(broker.url, 'req', { gate: undefined });
  await until(() => req.roster.get('bt1')?.online === true, 10_000, 'bt1 online at req');
  for (const subject of ['a', 'b', 'c']) {
    const o = await req.declare('want_chunk', { subject, deadlineMs: 5_000, to: ['bt1'] });
    expect(o.closedBy).toBe('all_answered');
  }
  await Promise.all([req.series.flush(), bt.series.flush()]);

  const metrics = createMetrics();
  metrics.addNodeSource(req.id, nodeSource(req));
  const server = await startMetricsServer({ metrics, port: 0 });
  servers.push(server);
  expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const r = await get(server.url);
  expect(r.status).toBe(200);
  expect(r.contentType).toContain('text/plain; version=0.0.4');
  const at = { node: 'req' };
  const text = r.body;

  const d = req.intents.stats().declare;
  expect(d.declared).toBe(3);
  expect(sample(text, 'dameso_intents_declared_total', at)).toBe(3);
  expect(sample(text, 'dameso_intents_closed_total', at)).toBe(3);
  expect(sample(text, 'dameso_intents_replies_total', at)).toBe(d.replies);
  expect(d.replies).toBe(3);
  expect(sample(text, 'dameso_intents_pending', at)).toBe(0);
  expect(sample(text, 'dameso_intents_late_replies_total', at)).toBe(0);

  const s = req.series.stats();
  expect(sample(text, 'dameso_series_last_seq', at)).toBe(s.lastSeq);
  expect(sample(text, 'dameso_series_durable_seq', at)).toBe(s.durableSeq);
  expect(sample(text, 'dameso_series_bytes', at)).toBe(s.bytes);
  expect(sample(text, 'dameso_series_segments', at)).toBe(s.segments);
  expect(sample(text, 'dameso_series_entries', at)).toBe(s.lastSeq - s.firstSeq + 1);
  expect(s.lastSeq).toBeGreaterThan(0);
  expect(sample(text, 'dameso_series_commits_total', at)).toBeGreaterThan(0);

  expect(sample(text, 'dameso_roster_online_peers', at)).toBe(req.roster.stats().online);
  expect(sample(text, 'dameso_transport_connected', at)).toBe(1);
  expect(sample(text, 'dameso_transport_published_total', at)).toBe(req.transport.stats().published);
  for (const limiter of ['economic', 'cpu', 'memory', 'w_tracking', 'objective', 'topology']) {
    const v = sample(text, 'dameso_limiter_value', { node: 'req', limiter });
    expect(v, limiter).toBeGreaterThanOrEqual(0);
    expect(v, limiter).toBeLessThanOrEqual(1);
  }
  expect(sample(text, 'dameso_limiter_no_total', { node: 'req', reason: 'cpu_busy' })).toBe(0);
  // Once per registry: prom-client's process metrics.
  expect(sample(text, 'process_resident_memory_bytes', {})).toBeGreaterThan(0);
  expect(text).toMatch(/^# HELP dameso_intents_declared_total Intents this node declared\.$/m);
  expect(text).toMatch(/^# TYPE dameso_intents_declared_total counter$/m);

  // The responder's side, from its own registry: three YES answers.
  const btMetrics = createMetrics({ processMetrics: false });
  btMetrics.addNodeSource(bt.id, nodeSource(bt));
  const btText = await btMetrics.text();
  expect(bt.intents.stats().answer.yes).toBe(3);
  expect(sample(btText, 'dameso_intents_answered_total', { node: 'bt1', answer: 'yes' })).toBe(3);
  expect(sample(btText, 'dameso_intents_answered_total', { node: 'bt1', answer: 'no' })).toBe(0);
  // A custom gate (alwaysYesGate) has no limiter values: none shown, rather than made up.
  expect(btText).not.toMatch(/^dameso_limiter_value\{/m);
});

test('two nodes in one registry: distinct node labels, one family each, a repeated id refused', async () => {
  const a = await pool.start(broker.url, 'twin-a');
  const b = await pool.start(broker.url, 'twin-b');
  // No one serves bt here: the intent closes with no answer, but it was declared.
  await a.declare('want_chunk', { subject: 'x', deadlineMs: 200 });
  expect(a.intents.stats().declare.declared).toBe(1);
  const metrics = createMetrics({ processMetrics: false });
  metrics.addNodeSource(a.id, nodeSource(a));
  const removeB = metrics.addNodeSource(b.id, nodeSource(b));
  expect(() => metrics.addNodeSource(a.id, nodeSource(a))).toThrow(/already registered/);
  const text = await metrics.text();
  expect(sample(text, 'dameso_intents_declared_total', { node: 'twin-a' })).toBe(a.intents.stats().declare.declared);
  expect(sample(text, 'dameso_intents_declared_total', { node: 'twin-b' })).toBe(0);
  expect(sample(text, 'dameso_series_last_seq', { node: 'twin-b' })).toBe(b.series.stats().lastSeq);
  expect(text.match(/^# TYPE dameso_series_last_seq /gm)).toHaveLength(1);
  removeB();
  const after = await metrics.text();
  expect(sample(after, 'dameso_series_last_seq', { node: 'twin-b' })).toBeUndefined();
  expect(sample(after, 'dameso_series_last_seq', { node: 'twin-a' })).toBe(a.series.stats().lastSeq);
});

test('the endpoint: 404 elsewhere, 405 for POST, refused once closed; a taken port is a ConfigError', async () => {
  const metrics = createMetrics({ processMetrics: false });
  const server = await startMetricsServer({ metrics, port: 0 });
  const base = `http://127.0.0.1:${server.port}`;
  expect((await get(`${base}/`)).status).toBe(404);
  expect((await get(`${base}/metrics/x`)).status).toBe(404);
  expect((await get(`${base}/metrics?x=1`)).status).toBe(200);
  expect((await get(`${base}/metrics`, 'POST')).status).toBe(405);
  await expect(startMetricsServer({ metrics, port: server.port })).rejects.toMatchObject({
    code: 'DAMESO_BAD_CONFIG',
    message: expect.stringContaining('EADDRINUSE'),
  });
  await server.close();
  await expect(get(`${base}/metrics`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
});

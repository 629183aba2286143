/**
 * Connection state changes, told once each: a real broker host stopped and started again on the
 * same port under a real node, its pino lines captured, its `connection` entries read back.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { createBrokerHost } from '../../broker/index.js';
import { createSeries } from '../../src/series/index.js';
import type { Entry } from '../../src/series/types.js';
import { CONNECTION_VIEW, type ConnectionViewState } from '../../src/transport/index.js';
import { LEVEL, logTap } from '../helpers/log-tap.js';
import { NodePool, until } from '../helpers/node-fixtures.js';

let host: ReturnType<typeof createBrokerHost>;
let url: string;
let pool: NodePool;

beforeEach(async () => {
  host = createBrokerHost({ host: '127.0.0.1', port: 0 });
  url = (await host.start()).url;
  pool = new NodePool();
});
afterEach(async () => {
  await pool.cleanup();
  await host.stop();
});

test('lost (warn, reason) once, reconnecting once per backoff step, back (away ms); entries and view follow', async () => {
  const tap = logTap('info');
  const node = await pool.start(url, 'c1', { roles: ['bt'], log: tap.log, reconnectMinMs: 20, reconnectMaxMs: 160 });
  expect(tap.named('transport: connected')).toHaveLength(1);
  expect(node.transport.connection()).toMatchObject({ state: 'online', broker: url });

  await host.stop();
  const [lost] = await tap.until('transport: connection lost');
  expect(lost).toMatchObject({ level: LEVEL.warn, broker: url, reason: expect.any(String) });
  expect(node.transport.connection()).toMatchObject({ state: 'reconnecting', reason: lost?.reason });
  // The broker stays down through many attempts: the backoff reaches its cap (20, 40, 80, 160 ms).
  const attemptsAtLoss = node.transport.stats().attempts;
  await until(() => node.transport.stats().attempts >= attemptsAtLoss + 8, 15_000, 'eight attempts while down');
  const reconnecting = tap.named('transport: reconnecting');
  expect(reconnecting.map((r) => r.delayMs)).toEqual([20, 40, 80, 160]);
  expect(reconnecting.every((r) => r.level === LEVEL.info)).toBe(true);
  expect(tap.named('transport: connection lost')).toHaveLength(1);

  await host.start();
  const [back] = await tap.until('transport: back');
  expect(back).toMatchObject({ level: LEVEL.info, broker: url, awayMs: expect.any(Number) });
  expect(back?.awayMs as number).toBeGreaterThan(0);
  expect(node.transport.connection()).toMatchObject({ state: 'online' });
  expect(tap.named('transport: connected')).toHaveLength(1);

  // A second outage starts the backoff lines again from the first step.
  await host.stop();
  await tap.until('transport: connection lost', 2);
  await until(() => tap.named('transport: reconnecting').length >= 5, 15_000, 'a new first step');
  expect(tap.named('transport: reconnecting')[4]?.delayMs).toBe(20);
  await host.start();
  await tap.until('transport: back', 2);

  await node.series.flush();
  const entries: Entry[] = [];
  for await (const e of node.series.read({ event: 'connection' })) entries.push(e);
  expect(entries.map((e) => e.state)).toEqual(['online', 'lost', 'back', 'lost', 'back']);
  expect(entries[0]).toMatchObject({ broker: url, node: 'c1', roles: ['bt'] });
  expect(entries[1]).toMatchObject({ reason: lost?.reason });
  expect(entries[2]?.away_ms).toBe(back?.awayMs);
  const view = node.series.view<ConnectionViewState>(CONNECTION_VIEW);
  expect(view).toMatchObject({ state: 'back', broker: url, node: 'c1', roles: ['bt'], seq: entries[4]?.seq });
});

test('a clean stop records `stopped`; a node that never connected records nothing', async () => {
  const dataDir = await pool.dir();
  const node = await pool.start(url, 'c2', { dataDir });
  await node.stop();
  const again = await pool.start(url, 'c2', { dataDir });
  await again.series.flush();
  const states: unknown[] = [];
  for await (const e of again.series.read({ event: 'connection' })) states.push(e.state);
  expect(states).toEqual(['online', 'stopped', 'online']);
  await host.stop();
  const neverDir = await pool.dir();
  const never = pool.start(url, 'c3', { dataDir: neverDir, startTimeoutMs: 200 });
  await expect(never).rejects.toMatchObject({ code: 'DAMESO_BROKER_UNREACHABLE' });
  const series = createSeries({ dir: join(neverDir, 'series'), readOnly: true });
  await series.open();
  const sessions: Entry[] = [];
  for await (const e of series.read({ event: ['connection', 'session_started'] })) sessions.push(e);
  await series.close();
  expect(sessions.length).toBeGreaterThan(0);
  expect(sessions.every((e) => e.event === 'session_started')).toBe(true);
});

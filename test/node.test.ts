import { afterEach, expect, test } from 'vitest';
import { ConfigError } from '../src/errors.js';
import type { NodeComponents, Service } from '../src/node.js';
import { createNode } from '../src/node.js';
import type { Entry, View } from '../src/series/types.js';
import { fixedHandler, NodePool, until, YES } from './helpers/node-fixtures.js';

const pool = new NodePool();
afterEach(() => pool.cleanup());

test('embedded broker, default limiters gate, services plugged in, clean stop publishes offline', async () => {
  const events: string[] = [];
  let seen: NodeComponents | undefined;
  const counter: View<number> = {
    name: 'demo_count',
    initial: () => 0,
    apply: (s: number, e: Entry) => (e.event === 'demo' ? s + 1 : s),
  };
  const demo: Service = {
    name: 'demo',
    views: [counter as View<unknown>],
    handlers: [fixedHandler('want_observations', 'mapper', YES('obs'))],
    create(c) {
      seen = c;
      events.push('create');
      return {
        start: async () => {
          events.push(`start:${c.roster.isReady}`);
          await c.series.append({ event: 'demo' });
        },
        stop: () => {
          events.push('stop');
        },
      };
    },
  };
  // The embedded node: broker in-process, its own limiters as the gate (no gate option).
  const hub = await pool.start('embedded', 'hub', { roles: ['mapper'], services: [demo], gate: undefined });
  expect(hub.brokerUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
  expect(events).toEqual(['create', 'start:true']);
  expect(seen).toMatchObject({ id: 'hub', roles: ['mapper'] });
  expect(Object.keys(seen ?? {}).sort()).toEqual(
    [
      'clock',
      'dataDir',
      'id',
      'intents',
      'log',
      'limiterReadout',
      'pressure',
      'roles',
      'roster',
      'series',
      'transport',
    ].sort(),
  );
  expect(hub.series.view<number>('demo_count')).toBe(1);
  expect(hub.services.demo).toBeDefined();

  const bt = await pool.start(hub.brokerUrl, 'bt1', {
    roles: ['bt'],
    handlers: [fixedHandler('want_chunk', 'bt', YES())],
  });
  const req = await pool.start(hub.brokerUrl, 'req');
  await until(() => req.roster.get('hub')?.online === true && req.roster.get('bt1')?.online === true);
  const o = await req.declare('want_observations', { subject: 'u4pruyd', deadlineMs: 5_000 });
  expect(o.closedBy).toBe('all_answered');
  expect(o.yes.map((r) => r.envelope.data)).toEqual(['obs']);
  // A YES on the limiters' fast path carries no lim on the wire; the responder's series has it.
  expect(o.yes[0]?.envelope.lim).toBeUndefined();
  await hub.series.flush(); // reads see the files, not the commit queue
  const [decision] = await hub.series.tail(1, { event: 'decision' });
  for (const v of Object.values(decision?.lim as Record<string, number>)) expect(v >= 0 && v <= 1).toBe(true);

  const session = bt.transport.session;
  await bt.stop();
  await until(() => req.roster.get('bt1')?.online === false, 10_000, 'offline presence at stop');
  expect(req.roster.get('bt1')?.session).toBe(session);
  await hub.stop();
  expect(events.at(-1)).toBe('stop');
});

test('bad configuration is a typed error naming the key', () => {
  expect(() => createNode({ id: 'bad id!', dataDir: '/tmp/x' })).toThrow(ConfigError);
  expect(() => createNode({ id: 'ok', dataDir: '' })).toThrow(/dataDir/);
  expect(() => createNode({ id: 'ok', dataDir: '/tmp/x', roles: ['BT'] })).toThrow(/roles/);
});

test('an unreachable broker fails start with DAMESO_BROKER_UNREACHABLE and leaves nothing running', async () => {
  const node = createNode({
    id: 'lonely',
    broker: 'mqtt://127.0.0.1:1',
    dataDir: await pool.dir(),
    startTimeoutMs: 300,
  });
  await expect(node.start()).rejects.toMatchObject({ code: 'DAMESO_BROKER_UNREACHABLE' });
});

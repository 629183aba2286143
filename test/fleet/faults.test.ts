/**
 * The stall proxy with a real broker and real mqtt.js clients (nothing gets through while stalled,
 * everything held flows after; a node stalled past its keep-alive is declared dead by the broker,
 * which publishes its Will), and the fault schedule on a manual clock.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { runFaults } from '../../src/fleet/faults.js';
import { type StallProxy, startStallProxy } from '../../src/fleet/stall-proxy.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { until } from '../helpers/node-fixtures.js';

let broker: BrokerHandle;
let proxy: StallProxy;
const clients: MqttClient[] = [];
beforeAll(async () => {
  broker = await startAedes();
  proxy = await startStallProxy({ host: '127.0.0.1', port: broker.port });
});
afterAll(async () => {
  for (const c of clients) c.end(true);
  await proxy.close();
  await broker.stop();
});

async function connect(url: string, id: string, extra: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = mqtt.connect(url, { clientId: id, protocolVersion: 4, reconnectPeriod: 0, ...extra });
  clients.push(c);
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return c;
}

describe('stall proxy (real broker)', () => {
  test('forwards both ways; while stalled nothing passes and the connection stays; then it flows', async () => {
    const behind = await connect(proxy.url, 'behind');
    const direct = await connect(broker.url, 'direct');
    const got: string[] = [];
    await behind.subscribeAsync('t/down');
    await direct.subscribeAsync('t/up');
    behind.on('message', (_t, p) => got.push(`down:${p}`));
    direct.on('message', (t, p) => t === 't/up' && got.push(`up:${p}`));
    await behind.publishAsync('t/up', '1', { qos: 1 });
    await direct.publishAsync('t/down', '1', { qos: 1 });
    await until(() => got.length === 2, 5_000, 'messages through the proxy');
    proxy.stall();
    const up = behind.publishAsync('t/up', '2', { qos: 1 });
    await direct.publishAsync('t/down', '2', { qos: 1 });
    // A round trip of the direct client after it: the broker has sent 'down:2' on to the proxy.
    await direct.subscribeAsync('t/echo');
    const echoed = new Promise<void>((resolve) => direct.once('message', () => resolve()));
    await direct.publishAsync('t/echo', 'e', { qos: 1 });
    await echoed;
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual(['up:1', 'down:1']);
    expect(behind.connected).toBe(true);
    expect(proxy.connections()).toBe(1);
    proxy.resume();
    await up;
    await until(() => got.length === 4, 5_000, 'held messages after the stall');
    expect(got.slice(2).sort()).toEqual(['down:2', 'up:2']);
  });

  test('stalled past its keep-alive, a node is dead to the broker: its Will is published', async () => {
    const watcher = await connect(broker.url, 'watcher');
    await watcher.subscribeAsync('will/+');
    const wills: string[] = [];
    watcher.on('message', (t) => wills.push(t));
    await connect(proxy.url, 'stalled-node', {
      keepalive: 1,
      will: { topic: 'will/stalled-node', payload: Buffer.from('x'), qos: 1, retain: false },
    });
    proxy.stall();
    await until(() => wills.length === 1, 10_000, 'the Will of a node stalled past its keep-alive');
    expect(wills).toEqual(['will/stalled-node']);
    proxy.resume();
  });
});

describe('fault schedule (manual clock)', () => {
  test('each fault at its second, in order, marked with what it hit; stop ends a stall', async () => {
    const clock = createManualClock();
    const calls: string[] = [];
    const fakeProxy = {
      stalled: false,
      url: '',
      connections: () => 0,
      close: async () => {},
      stall: () => calls.push('stall'),
      resume: () => calls.push('resume'),
    };
    const runner = runFaults(
      {
        faults: [
          { atS: 2, kind: 'kill', targets: ['fleet-3'] },
          { atS: 5, kind: 'broker-restart' },
          { atS: 8, kind: 'stall', targets: ['fleet-1', 'fleet-2'], durationS: 3 },
          { atS: 30, kind: 'kill', targets: ['fleet-4'] },
        ],
      },
      {
        clock,
        proxy: fakeProxy as unknown as StallProxy,
        hooks: {
          kill: async (t) => {
            calls.push(`kill ${t}`);
            return [t, `${t}-mate`];
          },
          restartBroker: async () => {
            calls.push('broker');
            throw new Error('port taken');
          },
        },
      },
    );
    const step = async (ms: number): Promise<void> => {
      clock.advance(ms);
      for (let i = 0; i < 5; i++) await Promise.resolve();
    };
    await step(1_999);
    expect(calls).toEqual([]);
    await step(1);
    expect(calls).toEqual(['kill fleet-3']);
    await step(3_000);
    expect(calls).toEqual(['kill fleet-3', 'broker']);
    await step(3_000);
    expect(calls.at(-1)).toBe('stall');
    await step(3_000);
    expect(calls.at(-1)).toBe('resume');
    await runner.stop();
    const marks = runner.marks();
    expect(marks.map((m) => [m.kind, m.atS, m.ok, m.nodes])).toEqual([
      ['kill', 2, true, ['fleet-3', 'fleet-3-mate']],
      ['broker-restart', 5, false, []],
      ['stall', 8, true, ['fleet-1', 'fleet-2']],
    ]);
    expect(marks[1]?.detail).toBe('port taken');
    expect(marks[2]).toMatchObject({ startS: 8, endS: 11 });
    expect(calls).not.toContain('kill fleet-4');
  });
});

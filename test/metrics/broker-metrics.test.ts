import mqtt from 'mqtt';
import { afterEach, expect, test } from 'vitest';
import { brokerSource, createMetrics, type MetricsServer, startMetricsServer } from '../../src/metrics/index.js';
import { encode } from '../../src/protocol/index.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { get, sample } from './scrape.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

test('garbage on a dameso topic: dropped{reason="bad_cbor"} goes up by one, every reason is shown from 0', async () => {
  const { broker, server, name } = await brokerWithMetrics();
  const at = (reason: string) => ({ broker: name, reason });

  const before = (await get(server.url)).body;
  expect(sample(before, 'dameso_broker_publishes_dropped_total', at('bad_cbor'))).toBe(0);
  expect(sample(before, 'dameso_broker_publishes_dropped_total', at('spoofed'))).toBe(0);

  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  cleanups.push(() => client.endAsync());
  // QoS 1: the PUBACK comes after the broker's publish check ran, so the count is final here.
  await client.publishAsync('dameso/v1/intent/want_chunk', Buffer.from([0xff]), { qos: 1 });

  const after = (await get(server.url)).body;
  expect(sample(after, 'dameso_broker_publishes_dropped_total', at('bad_cbor'))).toBe(1);
  expect(sample(after, 'dameso_broker_publishes_dropped_total', at('bad_envelope'))).toBe(0);
  expect(sample(after, 'dameso_broker_publishes_checked_total', { broker: name })).toBe(1);
  expect(sample(after, 'dameso_broker_publishes_passed_total', { broker: name })).toBe(0);
  expect(sample(after, 'dameso_broker_connections', { broker: name })).toBe(broker.stats?.().connections);
  expect(sample(after, 'dameso_broker_connections', { broker: name })).toBe(1);
  expect(after).toMatch(/^# TYPE dameso_broker_publishes_dropped_total counter$/m);
  // No --auth-file here: the auth and ACL counters are there, at 0.
  expect(sample(after, 'dameso_broker_acl_denied_total', { broker: name, action: 'publish' })).toBe(0);
  expect(after).toMatch(/^dameso_broker_auth_refused_total\{broker="[^"]+",reason="[a-z_]+"\} 0$/m);
  // No TLS listener here: the handshake failure counter is there, at 0 (test/broker/wss.test.ts counts real ones).
  expect(sample(after, 'dameso_broker_tls_handshake_failures_total', { broker: name })).toBe(0);
  // A broker-only registry shows no node families.
  expect(after).not.toMatch(/dameso_intents_/);
});

test('a $SYS subscription refused without auth and a have record over its node share are counted', async () => {
  const { broker, server, name } = await brokerWithMetrics({ maxHavesPerNode: 1 });

  const client = await mqtt.connectAsync(broker.url, { clientId: 'dameso.n1', reconnectPeriod: 0 });
  cleanups.push(() => client.endAsync());
  await expect(client.subscribeAsync('$SYS/#')).rejects.toThrow(/Subscribe error/);
  for (const chunk of ['a'.repeat(64), 'b'.repeat(64)]) {
    const record = encode({ v: 1, node: 'n1', chunk, size: 1, t: 0 });
    await client.publishAsync(`dameso/v1/have/${chunk}/n1`, record, { qos: 1, retain: true });
  }
  const body = (await get(server.url)).body;
  expect(sample(body, 'dameso_broker_sys_denied_total', { broker: name })).toBe(1);
  expect(sample(body, 'dameso_broker_haves_over_share_total', { broker: name })).toBe(1);
  expect(sample(body, 'dameso_broker_retained_haves', { broker: name })).toBe(1);
});

/** An embedded broker and a metrics server scraping its stats, both closed after the test. */
async function brokerWithMetrics(
  options: Parameters<typeof startAedes>[0] = {},
): Promise<{ broker: BrokerHandle; server: MetricsServer; name: string }> {
  const broker = await startAedes(options);
  cleanups.push(() => broker.stop());
  const metrics = createMetrics({ processMetrics: false });
  const name = `127.0.0.1:${broker.port}`;
  metrics.addBrokerSource(name, brokerSource({ stats: () => broker.stats?.() ?? fail() }));
  const server = await startMetricsServer({ metrics, port: 0 });
  cleanups.push(() => server.close());
  return { broker, server, name };
}

function fail(): never {
  throw new Error('the Aedes handle has stats()');
}

import mqtt from 'mqtt';
import { expect, test } from 'vitest';
import { finished, printed, runCli, spawnCli } from '../helpers/node-cli.js';
import { get, sample } from './scrape.js';

test('dameso broker --metrics-port 0: dropped{reason="bad_cbor"} counts garbage; the endpoint closes at SIGTERM', async () => {
  const child = spawnCli(['broker', '--host', '127.0.0.1', '--port', '0', '--stats-ms', '0', '--metrics-port', '0']);
  const done = finished(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await printed(child, '/metrics');
  const mqttUrl = /listening on (mqtt:\/\/[\d.]+:\d+)/.exec(out)?.[1];
  const url = /(http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(out)?.[1];
  expect(mqttUrl, out).toBeDefined();
  expect(url, out).toBeDefined();
  const name = (mqttUrl ?? '').replace('mqtt://', '');
  const at = (reason: string) => ({ broker: name, reason });
  const before = await get(url ?? '');
  expect(before.status).toBe(200);
  expect(sample(before.body, 'dameso_broker_publishes_dropped_total', at('bad_cbor'))).toBe(0);

  const client = await mqtt.connectAsync(mqttUrl ?? '', { reconnectPeriod: 0 });
  try {
    // QoS 1: the PUBACK comes after the broker's publish check ran.
    await client.publishAsync('dameso/v1/intent/want_chunk', Buffer.from([0xff]), { qos: 1 });
    const after = (await get(url ?? '')).body;
    expect(sample(after, 'dameso_broker_publishes_dropped_total', at('bad_cbor'))).toBe(1);
    expect(sample(after, 'dameso_broker_connections', { broker: name })).toBe(1);
    expect(sample(after, 'process_resident_memory_bytes', {})).toBeGreaterThan(0);
  } finally {
    await client.endAsync();
  }
  child.kill('SIGTERM');
  expect((await done).code).toBe(0);
  await expect(get(url ?? '')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
});

test('dameso broker: a bad --metrics-port exits 64 in one line; --help shows the curl example', async () => {
  const bad = await runCli(['broker', '--port', '0', '--metrics-port', '70000']);
  expect(bad.code).toBe(64);
  expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  expect(bad.stderr).toMatch(/--metrics-port must be a port number/);
  const help = await runCli(['broker', '--help']);
  expect(help.stdout).toMatch(/--metrics-port <port>/);
  expect(help.stdout).toContain('curl -s localhost:9464/metrics | grep dameso_');
});

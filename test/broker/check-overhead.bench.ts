/**
 * `npx tsx test/broker/check-overhead.bench.ts`: what the broker's envelope check costs.
 * Prints ONE JSON object. Baselines are measured in the same run:
 *  - validate: protocol validateMessage vs a bare cbor-x decode of the same bytes (ops/s);
 *  - round trip: 1 requester, 10 responders (all in this process, one mqtt.js connection each,
 *    TCP_NODELAY), sequential intents, each closed when all 10 replies are in; dameso broker host
 *    with the check on vs the same host with checkEnvelopes:false. Runs alternate (ABAB) to share
 *    the machine's noise.
 */
import { performance } from 'node:perf_hooks';
import { decode as cborDecode } from 'cbor-x';
import type { MqttClient } from 'mqtt';
import { clientIdForNode, createTopics, encode, validateMessage } from '../../src/protocol/index.js';
import { connectClient } from '../helpers/broker-clients.js';
import { startAedes } from '../helpers/brokers.js';

const topics = createTopics();
const intentBytes = encode({
  v: 1,
  id: '01JDAMESO0000000000000000',
  from: 'req',
  session: 1,
  kind: 'want_chunk',
  t: Date.now(),
  deadline: 2000,
  subject: 'a'.repeat(64),
});
const replyBytes = encode({
  v: 1,
  id: '01JDAMESO0000000000000000',
  from: 'r1',
  session: 1,
  r: 'yes',
  data: new Uint8Array(4096),
});

function opsPerSec(fn: () => void, ms = 700): number {
  for (let i = 0; i < 20_000; i++) fn(); // warm up the JIT
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 200; i++) fn();
    n += 200;
  }
  return Math.round(n / (ms / 1000));
}

function validateBench() {
  const out: Record<string, unknown> = {};
  for (const [name, topic, bytes] of [
    ['intent', topics.intent('want_chunk'), intentBytes],
    ['reply_4KiB', topics.reply('req'), replyBytes],
  ] as const) {
    const base = opsPerSec(() => cborDecode(bytes));
    const dameso = opsPerSec(() => validateMessage(topic, bytes));
    out[name] = { bytes: bytes.length, cbor_decode_ops_s: base, validate_ops_s: dameso, ratio: round(dameso / base) };
  }
  return out;
}

async function roundTrips(check: boolean, intents: number, responders = 10) {
  const broker = await startAedes({ checkEnvelopes: check });
  const clients: MqttClient[] = [];
  try {
    const req = await connectClient(broker.url, { clientId: clientIdForNode('req') });
    clients.push(req);
    for (let i = 0; i < responders; i++) {
      const node = `r${i}`;
      const c = await connectClient(broker.url, { clientId: clientIdForNode(node) });
      clients.push(c);
      const reply = encode({ v: 1, id: 'x', from: node, session: 1, r: 'yes', data: new Uint8Array(64) });
      c.on('message', () => c.publish(topics.reply('req'), reply, { qos: 0 }));
      await c.subscribeAsync(topics.intent('want_chunk'), { qos: 0 });
    }
    await req.subscribeAsync(topics.reply('req'), { qos: 0 });
    let pending = 0;
    let done: () => void = () => {};
    req.on('message', () => {
      if (--pending === 0) done();
    });
    const lat: number[] = [];
    const started = performance.now();
    for (let i = 0; i < intents; i++) {
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        pending = responders;
        done = resolve;
        req.publish(topics.intent('want_chunk'), intentBytes, { qos: 0 });
      });
      lat.push(performance.now() - t0);
    }
    const elapsed = performance.now() - started;
    lat.sort((a, b) => a - b);
    return {
      intents_s: Math.round(intents / (elapsed / 1000)),
      p50_ms: round(lat[Math.floor(lat.length * 0.5)]!),
      p99_ms: round(lat[Math.floor(lat.length * 0.99)]!),
      dropped: broker.stats!().droppedTotal,
    };
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await broker.stop();
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

const validate = validateBench();
const runs: { off: Awaited<ReturnType<typeof roundTrips>>[]; on: Awaited<ReturnType<typeof roundTrips>>[] } = {
  off: [],
  on: [],
};
for (let i = 0; i < 2; i++) {
  runs.off.push(await roundTrips(false, 1500));
  runs.on.push(await roundTrips(true, 1500));
}
const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary = (rs: Awaited<ReturnType<typeof roundTrips>>[]) => ({
  intents_s: med(rs.map((r) => r.intents_s)),
  p50_ms: med(rs.map((r) => r.p50_ms)),
  p99_ms: med(rs.map((r) => r.p99_ms)),
});
const off = summary(runs.off);
const on = summary(runs.on);
process.stdout.write(
  `${JSON.stringify({
    validate,
    round_trip_10_responders: {
      layout: 'all clients in this process, one connection each, sequential intents',
      baseline_check_off: off,
      check_on: on,
      ratio_p50: round(on.p50_ms / off.p50_ms),
      ratio_p99: round(on.p99_ms / off.p99_ms),
      ratio_throughput: round(on.intents_s / off.intents_s),
      dropped: runs.on.map((r) => r.dropped),
    },
  })}\n`,
);

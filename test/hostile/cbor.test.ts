/**
 * Hostile CBOR cannot stall the broker or a node. Every payload an attack run used (shared
 * reference DAGs, bignums of 100–200 KB) and every other way to make a decoder work more than the
 * bytes it was sent is refused with its reason by the broker's envelope check and by a node's
 * dispatcher, and costs each of them, per byte, at most MAX_COST_RATIO times what an ordinary
 * intent envelope costs per byte, both measured in the same test.
 *
 * Why 20: a decoder linear in the bytes differs from an ordinary envelope's cost per byte only by a
 * constant (a refusal builds an error; a payload of many small items allocates more per byte than
 * an envelope of a few strings), which stays within a few times; 20 leaves room for GC pauses and a
 * shared two-core machine. The stalls this guards against were 1 000 times and more, and grew with
 * the payload (each shared-reference level doubles the work, bignums are worse than quadratic).
 *
 * Then the same payloads go through a real broker on a real port, published by a raw mqtt.js
 * client: each is dropped and counted under its reason, and an intent declared by a real node right
 * after still closes with every expected reply.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnvelopeCheck } from '../../broker/envelope-check.js';
import { silentLogger } from '../../src/log.js';
import { encode } from '../../src/protocol/index.js';
import { Dispatcher } from '../../src/transport/dispatcher.js';
import type { BrokerHandle } from '../helpers/brokers.js';
import { startAedes } from '../helpers/brokers.js';
import { fixedHandler, NodePool, until, YES } from '../helpers/node-fixtures.js';
import { intent, reply } from '../protocol/fixtures.js';
import { type HostilePayload, hostileIntents, hostileKeys, hostileReplies } from './cbor-payloads.js';

const MAX_COST_RATIO = 20;
const REPETITIONS = 7;
/** Bytes each timed repetition processes at least (small payloads are decoded many times). */
const BYTES_PER_REPETITION = 300_000;

const ROOT = 'dameso/v1';
const INTENT_TOPIC = `${ROOT}/intent/want_chunk`;
const REPLY_TOPIC = `${ROOT}/reply/node-1`;

// A full collection before each timed block, so that no block pays for the garbage of the one
// before it (a hostile megabyte leaves much more than an envelope).
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

/**
 * Median over REPETITIONS of ns per byte for each source of payloads, timed in turns after one
 * warm-up turn (so the decoders run compiled for each shape). A source gives the payload to
 * decode; one of fresh keys gives a new one each time (prepared before the timer starts).
 */
function nsPerByte(run: (payload: Buffer) => void, sources: (() => Buffer)[]): number[] {
  // Every message costs something whatever its size (a topic lookup, a verdict, for a refusal an
  // error object): a payload smaller than the ordinary envelope is charged as that envelope's size.
  const minBytes = sources[0]!().length;
  const samples = sources.map(() => [] as number[]);
  for (const source of sources) run(source());
  for (let r = 0; r < REPETITIONS; r++) {
    sources.forEach((source, i) => {
      const size = source().length;
      const times = Math.max(1, Math.ceil(BYTES_PER_REPETITION / size));
      const payloads = Array.from({ length: times }, source);
      collectGarbage();
      const started = process.hrtime.bigint();
      for (const payload of payloads) run(payload);
      samples[i]!.push(Number(process.hrtime.bigint() - started) / times / Math.max(size, minBytes));
    });
  }
  return samples.map((s) => s.sort((a, b) => a - b)[Math.floor(s.length / 2)]!);
}

/** Dispatcher verdicts: the reason counted for one payload (or 'ok' when delivered). */
function dispatchReason(dispatcher: Dispatcher, topic: string, payload: Buffer): string {
  const before = dispatcher.stats();
  dispatcher.dispatch(topic, payload, false);
  const after = dispatcher.stats();
  if (after.received !== before.received + 1) throw new Error('the dispatcher did not count the message');
  for (const [reason, n] of Object.entries(after.rejected)) if (n !== (before.rejected[reason] ?? 0)) return reason;
  return 'ok';
}

function costCase(topic: string, payload: HostilePayload): void {
  it(`${payload.name} (${payload.bytes.length} bytes): ${payload.reason}, linear cost on broker and node`, () => {
    const check = createEnvelopeCheck();
    const dispatcher = new Dispatcher(ROOT, silentLogger);
    dispatcher.add(`${ROOT}/#`, () => undefined);
    const verdict = check.check(null, topic, payload.bytes);
    expect(verdict.ok ? 'ok' : verdict.reason).toBe(payload.reason);
    expect(dispatchReason(dispatcher, topic, payload.bytes)).toBe(payload.reason);

    const ordinary = encode(topic === REPLY_TOPIC ? reply('node-2') : intent('node-1'));
    const sources = [() => ordinary, payload.fresh ?? (() => payload.bytes)];
    const [brokerOrdinary, brokerHostile] = nsPerByte((p) => check.check(null, topic, p), sources) as [number, number];
    const [nodeOrdinary, nodeHostile] = nsPerByte((p) => dispatcher.dispatch(topic, p, false), sources) as [
      number,
      number,
    ];
    const ratios = { broker: brokerHostile / brokerOrdinary, node: nodeHostile / nodeOrdinary };
    if (process.env.DAMESO_HOSTILE_RATIOS) console.log(JSON.stringify({ name: payload.name, ...ratios }));
    expect(ratios.broker, JSON.stringify(ratios)).toBeLessThanOrEqual(MAX_COST_RATIO);
    expect(ratios.node, JSON.stringify(ratios)).toBeLessThanOrEqual(MAX_COST_RATIO);
  });
}

describe('hostile CBOR: refused with its reason, at a cost per byte within 20x an envelope', () => {
  for (const payload of hostileIntents()) costCase(INTENT_TOPIC, payload);
  for (const payload of hostileKeys()) costCase(INTENT_TOPIC, payload);
  for (const payload of hostileReplies()) costCase(REPLY_TOPIC, payload);
});

describe('hostile CBOR through a real broker', () => {
  let broker: BrokerHandle;
  const pool = new NodePool();

  beforeAll(async () => {
    // Every payload comes from one client: without a drop budget, so each is dropped and counted
    // (test/hostile/drop-budget.test.ts shows a flooding client disconnected).
    broker = await startAedes({ maxDropsPerWindow: 0 });
  });
  afterAll(async () => {
    await pool.cleanup();
    await broker.stop();
  });

  it('drops every payload under its reason, and a node’s intent right after gets all its replies', async () => {
    const responders = ['bt-1', 'bt-2', 'bt-3'];
    for (const id of responders) {
      await pool.start(broker.url, id, { roles: ['bt'], handlers: [fixedHandler('want_chunk', 'bt', YES('here'))] });
    }
    const requester = await pool.start(broker.url, 'node-1');
    await until(() => responders.every((id) => requester.roster.get(id)?.online === true), 10_000, 'the roster');

    const raw = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    const sent = [
      ...[...hostileIntents(), ...hostileKeys()].map((p) => ({ topic: INTENT_TOPIC, ...p })),
      ...hostileReplies().map((p) => ({ topic: REPLY_TOPIC, ...p })),
    ];
    const expected: Record<string, number> = {};
    try {
      // QoS 1: each PUBACK comes after the broker's check of that publish ran.
      for (const p of sent) {
        await raw.publishAsync(p.topic, p.bytes, { qos: 1 });
        if (p.reason !== 'ok') expected[p.reason] = (expected[p.reason] ?? 0) + 1;
      }
    } finally {
      await raw.endAsync();
    }
    const dropped = broker.stats!().dropped as Record<string, number>;
    for (const [reason, n] of Object.entries(expected)) expect(dropped[reason], reason).toBe(n);

    const outcome = await requester.declare('want_chunk', { subject: 'a'.repeat(64), deadlineMs: 10_000 });
    expect(outcome.yes.map((r) => r.envelope.from).sort()).toEqual(responders);
    expect(outcome.silence).toEqual([]);
    // The responders never saw what the broker dropped.
    for (const node of pool.nodes.slice(0, responders.length)) {
      const rejected = node.stats().transport.rejected;
      for (const reason of Object.keys(expected)) expect(rejected[reason] ?? 0, reason).toBe(0);
    }
  });
});

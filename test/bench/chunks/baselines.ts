/**
 * The same-run references of `npm run bench:chunks`, on plain mqtt.js clients of the bench's broker:
 * - raw fetch and raw push: the bytes alone, no protocol (the baselines of the ratios);
 * - required work: a fetch stripped to what no implementation of wire protocol v1 with chunk
 *   verification and recorded outcomes can skip (see `requiredWorkFetcher`). Its ratio to raw
 *   is the best any fetch can reach on this host; dameso's fetch sits between the two.
 */
import path from 'node:path';
import { encode as encodeRaw } from 'cbor-x';
import mqtt, { type MqttClient } from 'mqtt';
import { sha256Hex } from '../../../src/chunks/index.js';
import { nextIntentId } from '../../../src/intent/ids.js';
import {
  clientIdForNode,
  createTopics,
  encode,
  type LimiterValues,
  validateIntent,
  validateReply,
} from '../../../src/protocol/index.js';
import { createSeries } from '../../../src/series/index.js';

export async function connect(url: string, id: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: id, reconnectPeriod: 0 });
  (c.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
  return c;
}

/** A request/response source: `round()` is one request and its reply, timed in ms. */
export interface Fetcher {
  round(): Promise<number>;
  stop(): Promise<void>;
}

/** A fetcher that writes series entries: `flush()` commits them (untimed, between blocks). */
export interface RecordingFetcher extends Fetcher {
  flush(): Promise<void>;
}

/** Raw request/response of `payload` bytes: a small request, the bytes back on a reply topic. */
export async function rawFetcher(url: string, payload: Uint8Array): Promise<Fetcher> {
  const req = await connect(url, 'raw-fetch-req');
  const res = await connect(url, 'raw-fetch-res');
  const body = Buffer.from(payload);
  res.on('message', () => res.publish('raw/reply/req', body, { qos: 0 }));
  await res.subscribeAsync('raw/want', { qos: 0 });
  let wake: (() => void) | undefined;
  req.on('message', () => wake?.());
  await req.subscribeAsync('raw/reply/req', { qos: 0 });
  let i = 0;
  return {
    async round() {
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        wake = resolve;
        req.publish('raw/want', encodeRaw({ id: i++ }), { qos: 0 });
      });
      return performance.now() - t0;
    },
    async stop() {
      await Promise.all([req.endAsync(), res.endAsync()]);
    },
  };
}

/** Raw push: publish `payload` to `k` subscribers, each acks; one round = `k` acks, in ms. */
export async function rawPush(url: string, payload: Uint8Array, k: number, rounds: number): Promise<number[]> {
  const pusher = await connect(url, 'raw-push');
  const holders: MqttClient[] = [];
  for (let i = 0; i < k; i++) {
    const h = await connect(url, `raw-holder-${i}`);
    h.on('message', () => h.publish('raw/ack', encodeRaw({ from: i }), { qos: 0 }));
    await h.subscribeAsync('raw/store', { qos: 0 });
    holders.push(h);
  }
  let left = 0;
  let wake: (() => void) | undefined;
  pusher.on('message', () => {
    if (--left === 0) wake?.();
  });
  await pusher.subscribeAsync('raw/ack', { qos: 0 });
  const ms: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      left = k;
      wake = resolve;
      pusher.publish('raw/store', Buffer.from(payload), { qos: 0 });
    });
    ms.push(performance.now() - t0);
  }
  await Promise.all([pusher.endAsync(), ...holders.map((h) => h.endAsync())]);
  return ms;
}

/** The six limiter values a decision entry carries (the gate's are frozen objects of this shape). */
const LIM: LimiterValues = Object.freeze({ economic: 1, cpu: 1, memory: 1, w_tracking: 1, objective: 1, topology: 1 });

/**
 * A fetch reduced to its required work, on two plain clients that speak wire protocol v1 as the
 * nodes `rw-reader` and `rw-holder` (client ids `dameso.{node}`, so dameso's broker checks and
 * narrows them as it does the nodes), each with a series in `dir` (`batch`, as the nodes):
 * - reader: a `want_chunk` intent envelope addressed with `to`, encoded (the protocol's encoder);
 * - broker: its envelope check of the intent and of the reply (spoofing, well-formedness);
 * - holder: validates the intent, takes the bytes from a Map, encodes the YES reply with them,
 *   records its `decision` entry;
 * - reader: validates the reply (Mosquitto checks nothing, so receivers must), checks the bytes'
 *   SHA-256 against the id, records `intent_outcome` and `chunk_fetched`.
 * Not here: the roster and the expected set, the declare and answer bookkeeping, the gate, the
 * deadline, holder discovery, fallback. What dameso's fetch costs over this is that machinery.
 */
export async function requiredWorkFetcher(
  url: string,
  chunks: ReadonlyArray<{ id: string; bytes: Uint8Array }>,
  dir: string,
): Promise<RecordingFetcher> {
  const topics = createTopics();
  const [READER, HOLDER, KIND] = ['rw-reader', 'rw-holder', 'want_chunk'];
  const readerSeries = createSeries({ dir: path.join(dir, READER), durability: 'batch' });
  const holderSeries = createSeries({ dir: path.join(dir, HOLDER), durability: 'batch' });
  await Promise.all([readerSeries.open(), holderSeries.open()]);
  const reader = await connect(url, clientIdForNode(READER));
  const holder = await connect(url, clientIdForNode(HOLDER));
  const held = new Map(chunks.map((c) => [c.id, c.bytes]));

  holder.on('message', (_topic, payload) => {
    const intent = validateIntent(payload, { kind: KIND });
    const data = held.get(intent.subject ?? '');
    if (data === undefined) return; // not held: silence
    const reply = encode({ v: 1, id: intent.id, from: HOLDER, session: 1, r: 'yes', data });
    holder.publish(topics.reply(READER), reply, { qos: 0 });
    holderSeries.record({
      event: 'decision',
      id: intent.id,
      kind: KIND,
      from: intent.from,
      r: 'yes',
      lim: LIM,
      outcome: 'yes',
      subject: intent.subject,
    });
  });
  await holder.subscribeAsync(topics.intent(KIND), { qos: 0 });

  let waiting: { id: string; subject: string; t0: number; done: () => void; fail: (e: Error) => void } | undefined;
  reader.on('message', (_topic, payload) => {
    const reply = validateReply(payload, { requester: READER });
    const w = waiting;
    if (w === undefined || reply.id !== w.id) return;
    waiting = undefined;
    if (!(reply.data instanceof Uint8Array) || sha256Hex(reply.data) !== w.subject) {
      w.fail(new Error('required-work fetch: the bytes do not hash to the id'));
      return;
    }
    const ms = Math.round((performance.now() - w.t0) * 100) / 100;
    const outcome = { event: 'intent_outcome', id: w.id, kind: KIND, subject: w.subject, expected: [HOLDER] };
    readerSeries.record({
      ...outcome,
      yes: [{ node: HOLDER, ms }],
      no: [],
      offline: [],
      silence: [],
      closedBy: 'all_answered',
      ms,
    });
    readerSeries.record({ event: 'chunk_fetched', id: w.subject, from: HOLDER, size: reply.data.length, attempts: 1 });
    w.done(); // entries are not awaited: durable with the next commit, as the nodes write them
  });
  await reader.subscribeAsync(topics.reply(READER), { qos: 0 });

  let next = 0;
  return {
    async round() {
      const subject = chunks[next++ % chunks.length]!.id;
      const t0 = performance.now();
      await new Promise<void>((done, fail) => {
        const id = nextIntentId(Date.now());
        waiting = { id, subject, t0, done, fail };
        const env = {
          v: 1,
          id,
          from: READER,
          session: 1,
          kind: KIND,
          t: Date.now(),
          deadline: 3000,
          subject,
          to: [HOLDER],
        };
        reader.publish(topics.intent(KIND), encode(env), { qos: 0 });
      });
      return performance.now() - t0;
    },
    async flush() {
      await Promise.all([readerSeries.flush(), holderSeries.flush()]);
    },
    async stop() {
      await Promise.all([reader.endAsync(), holder.endAsync()]);
      await Promise.all([readerSeries.close(), holderSeries.close()]);
    },
  };
}

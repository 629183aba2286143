/**
 * The raw baseline: plain mqtt.js scatter-gather of the same answers on the same broker. One
 * requester client publishes a request; N responder clients (one connection each, in this process
 * like the dameso mappers) each answer with a real dameso YES reply envelope (captured from a
 * dameso round at the same N) carrying the request's id, CBOR-encoded per reply as a dameso
 * responder does; the requester decodes each, waits for all N and takes the median of the values.
 */
import type { MqttClient } from 'mqtt';
import { plainMedian } from '../../../src/observe/index.js';
import { decode, encode } from '../../../src/protocol/index.js';
import { connect } from '../intents/responders.js';

const REQUEST_TOPIC = 'raw/survey/want_observations';
const REPLY_TOPIC = 'raw/survey/reply/req';

interface Reply {
  id: string;
  data?: { obs?: Array<{ value: number }> };
}

export interface RawSurvey {
  /** Resolves with the median once all N replies are in. */
  round(): Promise<number>;
  stop(): Promise<void>;
}

async function startResponder(url: string, i: number, reply: Record<string, unknown>): Promise<MqttClient> {
  const c = await connect(url, `raw-survey-res-${i}`);
  c.on('message', (_t, p) => {
    const { id } = decode(p) as { id: string };
    c.publish(REPLY_TOPIC, encode({ ...reply, id }), { qos: 0 });
  });
  await c.subscribeAsync(REQUEST_TOPIC, { qos: 0 });
  return c;
}

/** `reply`: a decoded dameso YES envelope; `request`: a decoded dameso intent envelope (for its size). */
export async function startRawSurvey(
  url: string,
  n: number,
  reply: Record<string, unknown>,
  request: Record<string, unknown>,
): Promise<RawSurvey> {
  const responders: MqttClient[] = [];
  for (let i = 0; i < n; i++) responders.push(await startResponder(url, i, reply));
  const req = await connect(url, 'raw-survey-req');
  const waiting = new Map<string, { values: number[]; left: number; done: (median: number) => void }>();
  req.on('message', (_t, p) => {
    const m = decode(p) as Reply;
    const w = waiting.get(m.id);
    if (!w) return;
    for (const o of m.data?.obs ?? []) w.values.push(o.value);
    if (--w.left === 0) {
      waiting.delete(m.id);
      w.done(plainMedian(w.values));
    }
  });
  await req.subscribeAsync(REPLY_TOPIC, { qos: 0 });
  let seq = 0;
  // Same id length as a dameso intent id, so requests and replies weigh the same on both sides.
  const idLength = String(request.id ?? '').length;
  return {
    round: () =>
      new Promise<number>((done) => {
        const id = `q${seq++}`.padEnd(idLength, '0');
        waiting.set(id, { values: [], left: n, done });
        req.publish(REQUEST_TOPIC, encode({ ...request, id, t: Date.now() }), { qos: 0 });
      }),
    stop: async () => {
      await Promise.all([req.endAsync(true), ...responders.map((c) => c.endAsync(true))]);
    },
  };
}

/**
 * One responder of each side, wherever it runs (the bench process or a child): the same code in
 * both layouts, so the layouts differ only in where the work is scheduled.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { alwaysYesGate } from '../../../src/intent/index.js';
import { createNode, type DamesoNode } from '../../../src/node.js';
import { decode, encode } from '../../../src/protocol/index.js';
import { BATCH_MS, BENCH_BOARD, DATA, DURABILITY, GATE_OFF } from './config.js';

export const RAW_INTENT_TOPIC = 'raw/intent/want_chunk';
export const RAW_REPLY_TOPIC = 'raw/reply/req';

export async function connect(url: string, id: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: id, reconnectPeriod: 0 });
  (c.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
  return c;
}

/** Raw responder `i`: replies to every request with a CBOR payload; resolves once subscribed. */
export async function startRawResponder(url: string, i: number): Promise<MqttClient> {
  const c = await connect(url, `raw-res-${i}`);
  c.on('message', (_t, p) => {
    const m = decode(p) as { id: string };
    c.publish(RAW_REPLY_TOPIC, encode({ v: 1, id: m.id, from: `r${i}`, session: 1, r: 'yes', data: DATA }), {
      qos: 0,
    });
  });
  await c.subscribeAsync(RAW_INTENT_TOPIC, { qos: 0 });
  return c;
}

/**
 * A real node with the bench's options: series on (DURABILITY), the bench board, limiters gate on
 * (unless BENCH_GATE=off), answering YES with DATA to `want_chunk` when it has the `bt` role.
 */
export function createBenchNode(url: string, id: string, roles: string[], dataDir: string): DamesoNode {
  return createNode({
    id,
    roles,
    broker: url,
    dataDir,
    rosterQuietMs: 50,
    durability: DURABILITY,
    device: BENCH_BOARD,
    ...(BATCH_MS !== undefined ? { series: { batchWindowMs: BATCH_MS } } : {}),
    ...(GATE_OFF ? { gate: alwaysYesGate } : {}),
    handlers: [{ kind: 'want_chunk', role: 'bt', handle: () => ({ r: 'yes', data: DATA }) }],
  });
}

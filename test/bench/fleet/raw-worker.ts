/**
 * The raw side of `npm run bench:fleet` in one worker process: K plain mqtt.js clients (no series,
 * no limiters, no roster), each subscribed to the request topic and answering, on the requester's
 * reply topic, the requests that name it. Started by raw.ts over IPC; connects paced as the fleet's.
 */
import mqtt from 'mqtt';
import { decode, encode } from '../../../src/protocol/index.js';
import { RAW_REPLY_TOPIC, RAW_REQUEST_TOPIC } from './topics.js';

interface Start {
  url: string;
  ids: string[];
  connectPerS: number;
}

interface Request {
  id: string;
  to: string[];
}

async function client(url: string, id: string): Promise<mqtt.MqttClient> {
  const c = mqtt.connect(url, { protocolVersion: 4, clientId: `raw-${id}`, reconnectPeriod: 1000 });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  c.on('message', (_topic, payload) => {
    const req = decode(payload) as Request;
    if (!req.to.includes(id)) return;
    c.publish(RAW_REPLY_TOPIC, Buffer.from(encode({ id: req.id, from: id, r: 'yes' })), { qos: 1 });
  });
  await c.subscribeAsync(RAW_REQUEST_TOPIC, { qos: 1 });
  return c;
}

if (!process.send) throw new Error('raw-worker runs under bench:fleet (needs an IPC channel)');
const clients: mqtt.MqttClient[] = [];
process.on('disconnect', () => process.exit(0));
process.on('message', async (m: Start) => {
  const t0 = performance.now();
  const gapMs = 1000 / m.connectPerS;
  const starts: Promise<void>[] = [];
  for (const [i, id] of m.ids.entries()) {
    const due = t0 + i * gapMs - performance.now();
    if (due > 0) await new Promise((r) => setTimeout(r, due));
    starts.push(client(m.url, id).then((c) => void clients.push(c)));
  }
  await Promise.all(starts);
  process.send?.({ type: 'ready' });
});

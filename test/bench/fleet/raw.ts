/**
 * The raw baseline of `npm run bench:fleet`: the same number of plain mqtt.js clients as the fleet
 * has nodes, in the same number of worker processes (and one more with a single client, the
 * memory baseline), started at the same connect rate; a requester publishes requests at the same
 * rate, each naming as many clients as the fleet's intents got replies, and every named client
 * answers. What the fleet's nodes add over bare connections is the difference.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { usageOf } from '../../../src/fleet/procs.js';
import { type HostUsage, marginalRss } from '../../../src/fleet/run.js';
import { decode, encode } from '../../../src/protocol/index.js';
import { LatencyReservoir } from '../../../src/reservoir.js';
import { RAW_REPLY_TOPIC, RAW_REQUEST_TOPIC } from './topics.js';

const WORKER = fileURLToPath(new URL('./raw-worker.ts', import.meta.url));
/** Requests still open after this long count their missing replies as lost, ms. */
const RAW_DEADLINE_MS = 1_000;
/** Requests are sent on this tick, ms. */
const TICK_MS = 10;

export interface RawOptions {
  url: string;
  /** Client ids per worker process (as the fleet's groups). */
  groups: string[][];
  connectPerS: number;
  rate: number;
  durationS: number;
  /** Clients named per request. */
  repliesPerRequest: number;
}

export interface RawResult {
  startMs: number;
  requests: number;
  replies: number;
  lost: number;
  replyMs: { p50: number; p99: number };
  hostUsage: HostUsage[];
  marginalRssPerClientMB: number | null;
}

function startWorker(url: string, ids: string[], connectPerS: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  child.send({ url, ids, connectPerS });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`raw worker exited (${code}) before it was ready`)));
  });
}

export async function rawSide(o: RawOptions): Promise<RawResult> {
  const total = o.groups.reduce((a, g) => a + g.length, 0);
  const t0 = performance.now();
  const workers = await Promise.all(o.groups.map((g) => startWorker(o.url, g, (o.connectPerS * g.length) / total)));
  const startMs = Math.round(performance.now() - t0);
  const ids = o.groups.flat();
  const requester = await mqtt.connectAsync(o.url, { protocolVersion: 4, clientId: 'raw-requester' });
  const sentAt = new Map<string, number>();
  const latencies = new LatencyReservoir(20_000);
  let replies = 0;
  requester.on('message', (_t, payload) => {
    const r = decode(payload) as { id: string };
    const at = sentAt.get(r.id);
    if (at === undefined) return;
    replies++;
    latencies.push(performance.now() - at);
  });
  await requester.subscribeAsync(RAW_REPLY_TOPIC, { qos: 1 });
  let requests = 0;
  const sendT0 = performance.now();
  // As the fleet's requester: as many requests as the rate owes by now (timers drift on a busy machine).
  const timer = setInterval(() => {
    const owed = Math.floor(((performance.now() - sendT0) / 1000) * o.rate);
    while (requests < owed) {
      const id = `r${requests++}`;
      const to = Array.from({ length: o.repliesPerRequest }, () => ids[Math.floor(Math.random() * ids.length)]!);
      sentAt.set(id, performance.now());
      requester.publish(RAW_REQUEST_TOPIC, Buffer.from(encode({ id, to, from: 'raw-requester' })), { qos: 1 });
    }
  }, TICK_MS);
  await new Promise((r) => setTimeout(r, o.durationS * 1000));
  clearInterval(timer);
  await new Promise((r) => setTimeout(r, RAW_DEADLINE_MS));
  const hostUsage = workers.map((w, i) => ({
    host: i,
    pid: w.pid ?? -1,
    nodes: o.groups[i]!.length,
    ...usageOf(w.pid ?? -1),
  }));
  await requester.endAsync();
  for (const w of workers) w.kill('SIGKILL');
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    startMs,
    requests,
    replies,
    lost: requests * o.repliesPerRequest - replies,
    replyMs: { p50: round(latencies.pct(50)), p99: round(latencies.pct(99)) },
    hostUsage,
    marginalRssPerClientMB: marginalRss(hostUsage),
  };
}

/**
 * `npm run bench:intents`: raw mqtt.js scatter-gather vs dameso intents, same broker, same run.
 *
 * Layout (both sides identical): everything in ONE process — the broker (dameso's Aedes host,
 * TCP_NODELAY), one requester connection and N responder connections, each on its own TCP socket.
 * Raw: the requester publishes a CBOR request on one topic, every responder replies with a CBOR
 * payload on the requester's reply topic; one round = all N replies in. dameso: N real nodes
 * (series on, `batch` durability, limiters gate on) and a requester node declaring `want_chunk`;
 * one round = the outcome closed by `all_answered` (every responder answered, YES or NO). Rounds
 * run back to back (one in flight) for latency, then with WINDOW rounds in flight for throughput,
 * raw and dameso alternating in blocks (shared, noisy machine). Prints one JSON object.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { createBrokerHost } from '../../broker/index.js';
import { loadBoard } from '../../devices/boards/index.js';
import { alwaysYesGate } from '../../src/intent/index.js';
import { createNode, type DamesoNode } from '../../src/node.js';
import { decode, encode } from '../../src/protocol/index.js';

// Knobs for tuning runs (defaults = the reported configuration).
const SIZES = (process.env.BENCH_SIZES ?? '1,10,100').split(',').map(Number);
const GATE_OFF = process.env.BENCH_GATE === 'off';
const DURABILITY = (process.env.BENCH_DURABILITY ?? 'batch') as 'batch' | 'none' | 'always';
/** Group-commit window, ms; default: the board's (`generic`: 10 ms). */
const BATCH_MS = process.env.BENCH_BATCH_MS === undefined ? undefined : Number(process.env.BENCH_BATCH_MS);
const WINDOW = 8;
const LAT_ROUNDS: Record<number, number> = { 1: 2000, 10: 1000, 100: 200 };
const TPUT_MS = 3000; // per side, in 6 alternating windows
const DATA = Buffer.alloc(64, 7);

interface Side {
  round(): Promise<void>;
  stop(): Promise<void>;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
const r2 = (x: number) => Math.round(x * 100) / 100;

async function connect(url: string, id: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: id, reconnectPeriod: 0 });
  (c.stream as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
  return c;
}

async function rawSide(url: string, n: number): Promise<Side> {
  const req = await connect(url, 'raw-req');
  const res: MqttClient[] = [];
  for (let i = 0; i < n; i++) {
    const c = await connect(url, `raw-res-${i}`);
    c.on('message', (_t, p) => {
      const m = decode(p) as { id: string };
      c.publish('raw/reply/req', encode({ v: 1, id: m.id, from: `r${i}`, session: 1, r: 'yes', data: DATA }), {
        qos: 0,
      });
    });
    await c.subscribeAsync('raw/intent/want_chunk', { qos: 0 });
    res.push(c);
  }
  const waiting = new Map<string, { left: number; done: () => void }>();
  req.on('message', (_t, p) => {
    const m = decode(p) as { id: string };
    const w = waiting.get(m.id);
    if (w && --w.left === 0) {
      waiting.delete(m.id);
      w.done();
    }
  });
  await req.subscribeAsync('raw/reply/req', { qos: 0 });
  let seq = 0;
  return {
    round: () =>
      new Promise<void>((done) => {
        const id = `q${seq++}`;
        waiting.set(id, { left: n, done });
        req.publish(
          'raw/intent/want_chunk',
          encode({
            v: 1,
            id,
            from: 'req',
            session: 1,
            kind: 'want_chunk',
            t: Date.now(),
            deadline: 5000,
            subject: 'x',
          }),
          { qos: 0 },
        );
      }),
    stop: async () => {
      await Promise.all([req, ...res].map((c) => c.endAsync(true)));
    },
  };
}

/**
 * The bench board: `generic` with its intent capacity raised out of reach. The bench measures what
 * the protocol costs (the limiters still sample and decide on every intent, and every decision is
 * written); at generic's 3000 intents per 10 s, a 1-responder run would answer mostly NO
 * rate_limited, which is `npm run bench:limiters`'s subject, not this one's.
 */
const BENCH_BOARD = (() => {
  const generic = loadBoard('generic');
  return { ...generic, board: 'generic-bench', intents: { ...generic.intents, capacityPerWindow: 10_000_000 } };
})();

async function damesoSide(
  url: string,
  n: number,
  root: string,
): Promise<Side & { nodes: DamesoNode[]; stats: { yes: number; no: Record<string, number> } }> {
  const nodes: DamesoNode[] = [];
  const stats = { yes: 0, no: {} as Record<string, number> };
  const start = (id: string, roles: string[]) => {
    const node = createNode({
      id,
      roles,
      broker: url,
      dataDir: path.join(root, id),
      rosterQuietMs: 50,
      durability: DURABILITY,
      device: BENCH_BOARD,
      ...(BATCH_MS !== undefined ? { series: { batchWindowMs: BATCH_MS } } : {}),
      ...(GATE_OFF ? { gate: alwaysYesGate } : {}),
      handlers: [{ kind: 'want_chunk', role: 'bt', handle: () => ({ r: 'yes', data: DATA }) }],
    });
    nodes.push(node);
    return node.start().then(() => node);
  };
  const batch = 20;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, j) => start(`res-${n}-${i + j}`, ['bt'])));
  }
  const req = await start(`req-${n}`, []);
  while (req.roster.online().filter((p) => p.roles.includes('bt')).length < n)
    await new Promise((r) => setTimeout(r, 20));
  return {
    nodes,
    stats,
    round: async () => {
      const o = await req.declare('want_chunk', { subject: 'x', deadlineMs: 10_000 });
      if (o.closedBy !== 'all_answered' || o.yes.length + o.no.length !== n) {
        throw new Error(`dameso round: ${o.closedBy}, ${o.yes.length + o.no.length}/${n} replies`);
      }
      stats.yes += o.yes.length;
      for (const r of o.no) stats.no[r.envelope.reason ?? '?'] = (stats.no[r.envelope.reason ?? '?'] ?? 0) + 1;
    },
    stop: async () => {
      await Promise.all(nodes.map((x) => x.stop()));
    },
  };
}

/** Latency rounds (one in flight) and throughput (WINDOW in flight) of one side, for `ms`. */
async function latency(side: Side, rounds: number, into: number[]): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await side.round();
    into.push(performance.now() - t0);
  }
}

async function throughput(side: Side, ms: number): Promise<{ rounds: number; secs: number }> {
  let rounds = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: WINDOW }, async () => {
      while (performance.now() < end) {
        await side.round();
        rounds++;
      }
    }),
  );
  return { rounds, secs: (performance.now() - t0) / 1000 };
}

/**
 * Both sides measured in alternating blocks (raw, dameso, raw, dameso…) so that load from other
 * processes on this shared machine hits both alike; ratios are computed from the totals.
 */
async function compare(raw: Side, dam: Side, n: number) {
  for (const side of [raw, dam]) for (let i = 0; i < 50; i++) await side.round(); // warm-up
  const blocks = 10;
  const per = Math.ceil((LAT_ROUNDS[n] ?? 200) / blocks);
  const lat = { raw: [] as number[], dam: [] as number[] };
  const tp = { raw: { rounds: 0, secs: 0 }, dam: { rounds: 0, secs: 0 } };
  for (let b = 0; b < blocks; b++) {
    await latency(raw, per, lat.raw);
    await latency(dam, per, lat.dam);
  }
  for (let b = 0; b < 6; b++) {
    for (const [k, side] of [['raw', raw] as const, ['dam', dam] as const]) {
      const t = await throughput(side, TPUT_MS / 6);
      tp[k].rounds += t.rounds;
      tp[k].secs += t.secs;
    }
  }
  const sum = (k: 'raw' | 'dam') => ({
    p50Ms: r2(pct(lat[k], 50)),
    p99Ms: r2(pct(lat[k], 99)),
    intentsPerS: r2(tp[k].rounds / tp[k].secs),
    repliesPerS: r2((tp[k].rounds * n) / tp[k].secs),
  });
  return { raw: sum('raw'), dameso: sum('dam') };
}

async function main(): Promise<void> {
  const host = createBrokerHost({ host: '127.0.0.1', port: 0 });
  const { url } = await host.start();
  const root = await mkdtemp(path.join(os.tmpdir(), 'dameso-bench-intents-'));
  const results: Record<string, unknown> = {};
  try {
    for (const n of SIZES) {
      const raw = await rawSide(url, n);
      const dam = await damesoSide(url, n, root);
      const { raw: rawM, dameso: damM } = await compare(raw, dam, n);
      await raw.stop();
      await dam.stop();
      results[`responders_${n}`] = {
        raw: rawM,
        dameso: { ...damM, answers: { yes: dam.stats.yes, no: dam.stats.no } },
        ratio: {
          p50: r2(damM.p50Ms / rawM.p50Ms),
          p99: r2(damM.p99Ms / rawM.p99Ms),
          throughput: r2(damM.intentsPerS / rawM.intentsPerS),
        },
      };
    }
  } finally {
    await host.stop();
    await rm(root, { recursive: true, force: true });
  }
  const r10 = results.responders_10 as { ratio: { p50: number; throughput: number } } | undefined;
  const r100 = results.responders_100 as { ratio: { p99: number } } | undefined;
  const out = {
    bench: 'intents',
    layout: 'one process: dameso Aedes host + requester + N responders, each on its own TCP connection (TCP_NODELAY)',
    dameso: `real nodes: series on (${DURABILITY} durability, window ${BATCH_MS ?? 'board default'} ms), ${GATE_OFF ? 'gate OFF' : 'limiters gate on (generic board, intent capacity raised out of reach)'}, outcome written per intent`,
    load: os.loadavg().map((x) => r2(x)),
    window: WINDOW,
    ...results,
    targets: {
      p50_at_10_le_1_5x: r10 && r10.ratio.p50 <= 1.5,
      throughput_at_10_ge_0_7x: r10 && r10.ratio.throughput >= 0.7,
      p99_at_100_le_1_5x: r100 && r100.ratio.p99 <= 1.5,
    },
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
process.exit(0);

/**
 * `npm run bench:limiters`: a storm of intents at 10x a node's capacity, against a real node on a
 * real Aedes (broker, stormer and node all in this one process, over loopback TCP). Prints ONE JSON
 * object on stdout.
 *
 * Two runs of the same storm, same broker: baseline = the node with the always-YES gate (no
 * limiters), then the node with its limiters (board `generic` with capacity lowered so the storm is
 * 10x it). Reported: answers/s, share of NO by reason, event-loop delay p99, RSS at several points
 * (must level off), and the cost of one decision (intentSeen + sample + decide) in µs against the
 * always-YES gate and the bare policy.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { loadBoard, parseBoard } from '../../devices/boards/index.js';
import { decode, encode } from '../../src/cbor/index.js';
import { createManualClock } from '../../src/clock.js';
import { alwaysYesGate } from '../../src/intent/gate.js';
import type { Gate, ReceivedIntent } from '../../src/intent/types.js';
import { createNodeLimiters, decide } from '../../src/limiters/index.js';
import { createNode } from '../../src/node.js';
import type { ReplyEnvelope } from '../../src/protocol/types.js';
import { startAedes } from '../helpers/brokers.js';

const CAPACITY = 1_000; // intents per window
const WINDOW_MS = 5_000;
const STORM_X = 10;
const RATE_PER_S = (STORM_X * CAPACITY * 1000) / WINDOW_MS; // 2000/s
const DURATION_MS = Number(process.env.BENCH_STORM_MS ?? 8_000);
const TICK_MS = 10;

const MiB = 1024 * 1024;
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

interface StormResult {
  sent: number;
  answered: number;
  answersPerS: number;
  noShareByReason: Record<string, number>;
  yesShare: number;
  loopDelayP99Ms: number;
  rssMiB: number[];
  rssGrowthFirstHalfMiB: number;
  rssGrowthSecondHalfMiB: number;
}

async function storm(brokerUrl: string, gate: 'limiters' | 'always-yes'): Promise<StormResult> {
  const dataDir = await mkdtemp(join(tmpdir(), 'dameso-bench-lim-'));
  const board = parseBoard(
    { ...loadBoard('generic'), board: 'bench', intents: { capacityPerWindow: CAPACITY, windowMs: WINDOW_MS } },
    'bench',
  );
  const node = createNode({
    id: `bench-${gate}`,
    broker: brokerUrl,
    dataDir,
    roles: ['bt'],
    device: board,
    rosterQuietMs: 50,
    ...(gate === 'always-yes' ? { gate: alwaysYesGate } : {}),
    handlers: [{ kind: 'want_chunk', role: 'bt', handle: () => ({ r: 'yes', data: 'chunk-bytes' }) }],
  });
  await node.start();
  const id = `stormer-${gate}`;
  const client = await mqtt.connectAsync(brokerUrl, { clientId: id, protocolVersion: 4 });
  (client.stream as unknown as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
  const counts: Record<string, number> = {};
  let answered = 0;
  let lastAnswerAt = 0;
  client.on('message', (_t, payload) => {
    const r = decode(payload) as ReplyEnvelope;
    const k = r.r === 'yes' ? 'yes' : (r.reason ?? 'unknown');
    counts[k] = (counts[k] ?? 0) + 1;
    answered++;
    lastAnswerAt = performance.now();
  });
  await client.subscribeAsync(`dameso/v1/reply/${id}`, { qos: 0 });

  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const rss: number[] = [process.memoryUsage().rss];
  let sent = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    let nextRss = t0 + 1000;
    const timer = setInterval(() => {
      const now = performance.now();
      const due = Math.min(Math.floor(((now - t0) * RATE_PER_S) / 1000), Math.floor((DURATION_MS * RATE_PER_S) / 1000));
      for (; sent < due; sent++) {
        const env = {
          v: 1,
          id: `s${sent}`,
          from: id,
          session: 1,
          kind: 'want_chunk',
          t: Date.now(),
          deadline: 10_000,
          subject: `c${sent % 64}`,
        };
        client.publish('dameso/v1/intent/want_chunk', encode(env), { qos: 0 });
      }
      if (now >= nextRss) {
        rss.push(process.memoryUsage().rss);
        nextRss += 1000;
      }
      if (now - t0 >= DURATION_MS) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  // Drain: wait until answers stop arriving (or 3 s).
  const drainStart = performance.now();
  while (answered < sent && performance.now() - drainStart < 3_000) await new Promise((r) => setTimeout(r, 20));
  h.disable();
  rss.push(process.memoryUsage().rss);
  const elapsedS = (lastAnswerAt - t0) / 1000;
  await client.endAsync();
  await node.stop();
  await rm(dataDir, { recursive: true, force: true });
  const noTotal = Object.entries(counts).filter(([k]) => k !== 'yes');
  const half = Math.floor(rss.length / 2);
  return {
    sent,
    answered,
    answersPerS: round(answered / elapsedS),
    noShareByReason: Object.fromEntries(noTotal.map(([k, n]) => [k, round(n / Math.max(1, answered), 3)])),
    yesShare: round((counts.yes ?? 0) / Math.max(1, answered), 3),
    loopDelayP99Ms: round(h.percentile(99) / 1e6, 2),
    rssMiB: rss.map((b) => round(b / MiB)),
    rssGrowthFirstHalfMiB: round((rss[half]! - rss[0]!) / MiB),
    rssGrowthSecondHalfMiB: round((rss[rss.length - 1]! - rss[half]!) / MiB),
  };
}

/** ns per (intentSeen + decide) over `n` calls. */
function perDecision(gate: Gate, n: number): number {
  const intents: ReceivedIntent[] = Array.from({ length: 64 }, (_, i) => ({
    envelope: { v: 1, id: `i${i}`, from: 'x', session: 1, kind: 'want_chunk', t: 0, deadline: 1000, subject: `c${i}` },
    bytes: 80,
    receivedAt: 0,
  }));
  for (let i = 0; i < 10_000; i++) gate.decide(intents[i & 63]!); // warm up
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const it = intents[i & 63]!;
    gate.intentSeen(it);
    gate.decide(it);
  }
  return Number(process.hrtime.bigint() - t) / n;
}

async function micro(): Promise<Record<string, number>> {
  const n = 300_000;
  const g = loadBoard('generic');
  // A frozen manual clock: no timer fires, the window never moves; values come from the caches.
  const costOf = async (capacity: number): Promise<number> => {
    const board = parseBoard(
      { ...g, board: 'micro', intents: { capacityPerWindow: capacity, windowMs: 10_000 } },
      'micro',
    );
    const l = createNodeLimiters({ board, clock: createManualClock(), usedBytes: () => 123_456 });
    await l.start();
    const ns = perDecision(l.gate, n);
    await l.stop();
    return ns;
  };
  const yesNs = await costOf(1e12); // never limited: the YES path
  const noNs = await costOf(1); // always over capacity: NO rate_limited with its retry hint
  const alwaysYesNs = perDecision(alwaysYesGate, n);
  const lim = { economic: 0.9, cpu: 0.9, memory: 0.9, w_tracking: 0.9, objective: 0.9, topology: 0.9 };
  const t = process.hrtime.bigint();
  let x = 0;
  for (let i = 0; i < n; i++) if (decide(lim).r === 'yes') x++;
  const policyNs = Number(process.hrtime.bigint() - t) / n;
  if (x !== n) throw new Error('policy changed its mind');
  return {
    decisionYesUs: round(yesNs / 1000, 3),
    decisionRateLimitedUs: round(noNs / 1000, 3),
    alwaysYesGateUs: round(alwaysYesNs / 1000, 3),
    policyOnlyUs: round(policyNs / 1000, 3),
    ratioToAlwaysYes: round(yesNs / alwaysYesNs, 1),
  };
}

async function main(): Promise<void> {
  const decision = await micro(); // first, on a quiet heap
  const broker = await startAedes();
  try {
    // ABBA order so that warm-up and machine-load drift hit both modes alike.
    const b1 = await storm(broker.url, 'always-yes');
    const l1 = await storm(broker.url, 'limiters');
    const l2 = await storm(broker.url, 'limiters');
    const b2 = await storm(broker.url, 'always-yes');
    const mean = (a: number, b: number): number => round((a + b) / 2);
    const baselineAps = mean(b1.answersPerS, b2.answersPerS);
    const limitedAps = mean(l1.answersPerS, l2.answersPerS);
    const out = {
      bench: 'limiters',
      setup: {
        capacityPerWindow: CAPACITY,
        windowMs: WINDOW_MS,
        stormRatePerS: RATE_PER_S,
        stormX: STORM_X,
        durationMs: DURATION_MS,
        layout: 'one process: Aedes host + stormer (mqtt.js) + one node, loopback TCP; runs in ABBA order',
        node: process.version,
      },
      baseline: { answersPerS: baselineAps, runs: [b1, b2] },
      limiters: { answersPerS: limitedAps, runs: [l1, l2] },
      ratios: {
        answersPerS: round(limitedAps / baselineAps, 3),
        loopDelayP99: round(
          (l1.loopDelayP99Ms + l2.loopDelayP99Ms) / Math.max(0.01, b1.loopDelayP99Ms + b2.loopDelayP99Ms),
          3,
        ),
      },
      decision,
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    await broker.stop();
  }
}

await main();

/**
 * `npm run bench:intents`: raw mqtt.js scatter-gather vs dameso intents, same broker, same run.
 *
 * Layout (both sides identical), chosen by BENCH_LAYOUT:
 * - default (`one`): everything in ONE process — the broker (dameso's Aedes host, TCP_NODELAY), one
 *   requester connection and N responder connections, each on its own TCP socket. All N responders'
 *   per-intent work is serialised on this one thread.
 * - `procs`: the broker in a child process, the requester in this process, each responder in its
 *   own child process (as on the field, one board per responder). See intents/layouts.ts.
 *
 * Raw: the requester publishes a CBOR request on one topic, every responder replies with a CBOR
 * payload on the requester's reply topic; one round = all N replies in. dameso: N real nodes
 * (series on, `batch` durability, limiters gate on) and a requester node declaring `want_chunk`;
 * one round = the outcome closed by `all_answered` (every responder answered, YES or NO). Rounds
 * run back to back (one in flight) for latency, then with WINDOW rounds in flight for throughput,
 * raw and dameso alternating in blocks (shared, noisy machine). Prints one JSON object.
 *
 *   npm run bench:intents
 *   BENCH_LAYOUT=procs BENCH_SIZES=1,10 npm run bench:intents
 *
 * In the procs layout the children run from dist/ when it is up to date, else under tsx (see
 * intents/runtime.ts; BENCH_CHILDREN=dist|tsx, BENCH_DIST=DIR). 100 responders there means 200
 * child processes: ~9 GB of memory and 3-4 minutes of start-up on 2 cores.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BATCH_MS, DURABILITY, GATE_OFF, LAYOUT, SIZES } from './intents/config.js';
import { type Layout, oneProcessLayout, procsLayout } from './intents/layouts.js';
import { compare, r2, WINDOW } from './intents/measure.js';
import { damesoSide, type PlacedSide, rawSide } from './intents/sides.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'dameso-bench-intents-'));
let layout: Layout | undefined;

/** Sync, idempotent: kills every child still running and removes scratch files. */
function cleanup(): void {
  layout?.dispose();
  rmSync(root, { recursive: true, force: true });
}

function die(err: unknown): never {
  process.stderr.write(`bench:intents failed: ${err instanceof Error ? err.message : String(err)}\n`);
  cleanup();
  process.exit(1);
}

/** Start time of a side's responders, and their memory in the procs layout (summed over N). */
function responderFigures(side: PlacedSide) {
  const rssMB = side.responders.usage?.().rssMB;
  return { startMs: side.responders.startMs, ...(rssMB !== undefined ? { rssMB: Math.round(rssMB) } : {}) };
}

async function measureSize(url: string, n: number) {
  const raw = await rawSide(layout!, url, n);
  const dam = await damesoSide(layout!, url, n, root);
  const { raw: rawM, dameso: damM } = await compare(raw, dam, n);
  const responders = { raw: responderFigures(raw), dameso: responderFigures(dam) };
  await raw.stop();
  await dam.stop();
  return {
    raw: rawM,
    dameso: { ...damM, answers: { yes: dam.stats.yes, no: dam.stats.no } },
    ratio: {
      p50: r2(damM.p50Ms / rawM.p50Ms),
      p99: r2(damM.p99Ms / rawM.p99Ms),
      throughput: r2(damM.intentsPerS / rawM.intentsPerS),
    },
    responders,
  };
}

async function main(): Promise<void> {
  layout = LAYOUT === 'procs' ? procsLayout(die) : oneProcessLayout();
  const broker = await layout.startBroker();
  const results: Record<string, unknown> = {};
  try {
    for (const n of SIZES) results[`responders_${n}`] = await measureSize(broker.url, n);
  } finally {
    await broker.stop();
  }
  const r10 = results.responders_10 as { ratio: { p50: number; throughput: number } } | undefined;
  const r100 = results.responders_100 as { ratio: { p99: number } } | undefined;
  const out = {
    bench: 'intents',
    layout: layout.description,
    ...layout.facts,
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

// No child outlives the bench: signals and any exit kill them (children also exit when their IPC
// channel closes, which covers a SIGKILLed bench).
process.once('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanup();
    process.exit(130);
  });
}
await main().catch(die);
cleanup();
process.exit(0);

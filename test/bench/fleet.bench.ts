/**
 * `npm run bench:fleet`: `dameso fleet` at 100, 300 and 1,000 nodes against the embedded broker
 * child, and in the same run the raw baseline (raw.ts): as many plain mqtt.js clients, in as many
 * worker processes, started at the same connect rate, answering requests at the same rate and
 * reply count. Per size: start time, intents/s, replies/s, per-outcome p50/p99, marginal RSS per
 * node (K-node workers against a one-node worker of the same run), broker CPU, and the ratios
 * dameso / raw. Prints one JSON object.
 *
 *   npm run bench:fleet > bench-results/fleet-$(date -u +%F)-1.json
 *   BENCH_FLEET_SIZES=100 BENCH_FLEET_DURATION_S=10 npm run bench:fleet      # a quick run
 *
 * Workers run from dist/ when it is up to date (`npm run build` first), else under tsx, as the
 * fleet's own children (src/fleet/runtime.ts; DAMESO_FLEET_CHILDREN=dist|tsx forces one).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Procs, usageOf } from '../../src/fleet/procs.js';
import { defaultSpecs, type FleetSummary, runFleet, workerGroups } from '../../src/fleet/run.js';
import { fleetRuntime } from '../../src/fleet/runtime.js';
import { rawSide } from './fleet/raw.js';

const SIZES = (process.env.BENCH_FLEET_SIZES ?? '100,300,1000').split(',').map(Number);
const DURATION_S = Number(process.env.BENCH_FLEET_DURATION_S ?? 60);
/** Intents declared per second by the requester (and raw requests per second). */
const RATE = Number(process.env.BENCH_FLEET_RATE ?? 5);
const CONNECT_RATE = Number(process.env.BENCH_FLEET_CONNECT_RATE ?? 100);
const ROLES = ['bt', 'mapper'];

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;
const ratio = (a: number | null, b: number | null): number | null =>
  a === null || b === null || b === 0 ? null : round(a / b, 2);

/** Nodes per worker: the fleet's default on this machine. */
const perProcessFor = (n: number): number => Math.max(1, Math.min(500, Math.ceil(n / os.availableParallelism())));

function brokerCpuShare(s: FleetSummary): number | null {
  const first = s.samples.find((x) => x.broker)?.broker;
  const last = [...s.samples].reverse().find((x) => x.broker)?.broker;
  const span = (s.samples.at(-1)?.t ?? 0) - (s.samples[0]?.t ?? 0);
  return first && last && span > 0 ? round((last.cpuS - first.cpuS) / span, 3) : null;
}

async function damesoRun(n: number, root: string) {
  const s = await runFleet({
    nodes: n,
    roles: ROLES,
    broker: 'embedded',
    dataDir: path.join(root, `fleet-${n}`),
    durationS: DURATION_S,
    rate: RATE,
    killEveryS: 0,
    perProcess: perProcessFor(n),
    connectRate: CONNECT_RATE,
    baselineWorker: true,
  });
  if (!s.ok) throw new Error(`fleet of ${n} failed: ${s.failures.slice(0, 3).join('; ')}`);
  const replies = s.yes + s.no;
  return {
    ok: s.ok,
    hosts: s.hosts,
    children: s.children,
    startMs: s.startMs,
    intentsPerS: round(s.declared / DURATION_S),
    repliesPerS: round(replies / DURATION_S),
    repliesPerIntent: round(replies / Math.max(1, s.declared)),
    outcomes: { expected: s.expected, yes: s.yes, no: s.no, noBy: s.noBy, silence: s.silence, offline: s.offline },
    latencyMs: {
      yes: { p50: s.latencyMs.yes.p50, p99: s.latencyMs.yes.p99 },
      no: { p50: s.latencyMs.no.p50, p99: s.latencyMs.no.p99 },
      closeWithSilence: { p50: s.latencyMs.closeWithSilence.p50, p99: s.latencyMs.closeWithSilence.p99 },
    },
    marginalRssPerNodeMB: s.marginalRssPerNodeMB,
    workerRssMB: s.hostUsage.map((h) => ({ nodes: h.nodes, rssMB: h.rssMB, heapUsedMB: h.heapUsedMB ?? null })),
    presenceRecordsAtStart: s.presenceRecordsAtStart,
    brokerRssMB: s.brokerRssMB,
    brokerCpuShare: brokerCpuShare(s),
  };
}

async function rawRun(n: number, repliesPerRequest: number) {
  const procs = new Procs(fleetRuntime());
  const broker = await procs.start(
    ['broker', '--host', '127.0.0.1', '--port', '0', '--json', '--stats-ms', '0'].concat([
      '--max-connections',
      String(n * 2 + 64),
      '--max-connections-per-ip',
      String(n * 2 + 64),
    ]),
    /"event":"listening"/,
  );
  try {
    const at = JSON.parse(broker.readyLine) as { host: string; port: number };
    const ids = defaultSpecs({ nodes: n, roles: ROLES, dataDir: '' });
    const groups = workerGroups(ids, perProcessFor(n), true).map((g) => g.map((s) => s.id));
    const cpu0 = usageOf(broker.pid).cpuS;
    const r = await rawSide({
      url: `mqtt://${at.host}:${at.port}`,
      groups,
      connectPerS: CONNECT_RATE,
      rate: RATE,
      durationS: DURATION_S,
      repliesPerRequest: Math.max(1, Math.round(repliesPerRequest)),
    });
    const cpuShare = round((usageOf(broker.pid).cpuS - cpu0) / (DURATION_S + r.startMs / 1000), 3);
    return {
      ...r,
      intentsPerS: round(r.requests / DURATION_S),
      repliesPerS: round(r.replies / DURATION_S),
      brokerRssMB: round(usageOf(broker.pid).rssMB, 1),
      brokerCpuShare: cpuShare,
    };
  } finally {
    await procs.stop(broker);
    procs.killAll();
  }
}

async function main(): Promise<void> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'dameso-bench-fleet-'));
  const started = performance.now();
  const load0 = os.loadavg().map((x) => round(x));
  const sizes: Record<string, unknown> = {};
  try {
    for (const n of SIZES) {
      const dameso = await damesoRun(n, root);
      const raw = await rawRun(n, dameso.repliesPerIntent);
      sizes[`nodes_${n}`] = {
        dameso,
        raw,
        ratio: {
          startMs: ratio(dameso.startMs, raw.startMs),
          repliesPerS: ratio(dameso.repliesPerS, raw.repliesPerS),
          replyP50Ms: ratio(dameso.latencyMs.yes.p50, raw.replyMs.p50),
          replyP99Ms: ratio(dameso.latencyMs.yes.p99, raw.replyMs.p99),
          marginalRssPerNode: ratio(dameso.marginalRssPerNodeMB, raw.marginalRssPerClientMB),
          brokerCpu: ratio(dameso.brokerCpuShare, raw.brokerCpuShare),
        },
      };
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const out = {
    bench: 'fleet',
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '?', memGiB: Math.round(os.totalmem() / 2 ** 30) },
    node: process.version,
    load: { start: load0, end: os.loadavg().map((x) => round(x)) },
    settings: { durationS: DURATION_S, rate: RATE, connectRate: CONNECT_RATE, roles: ROLES },
    sizes,
    elapsed_s: Math.round((performance.now() - started) / 1000),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:fleet failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

/**
 * A fleet run with its scenario: the plan's nodes hosted by `runFleet`, the nodes of the stall
 * group behind the stall proxy, the fault schedule played through the run's hooks once declaring
 * begins, then the built-in checks on the stopped folders and the report.
 */
import path from 'node:path';
import { systemClock } from '../clock.js';
import { roundTo } from '../round-to.js';
import { type ChecksResult, LATENCY_BUCKETS_MS, runChecks } from './checks.js';
import { DEFAULT_SCENARIO } from './constants.js';
import { REQUESTER_ID } from './declarations.js';
import { type FaultRunner, runFaults } from './faults.js';
import { type PullBack, pullBack } from './pull-back.js';
import { buildReport, type FleetReport, type SecondSample, type WorkerUsage } from './report.js';
import { type FleetOptions, type FleetSample, type FleetSummary, type HostUsage, runFleet } from './run.js';
import { planFleet, type ScenarioOptions, stallGroupOf } from './scenario.js';
import type { FleetPlan } from './spec.js';
import { type StallProxy, startStallProxy } from './stall-proxy.js';

/** When the recovery drill runs, share of the declaring phase. */
const PULL_AT_SHARE = 0.75;

export interface ScenarioRun {
  summary: FleetSummary;
  plan: FleetPlan;
  checks: ChecksResult;
  report: FleetReport;
  /** The run's integrity and every check hold. */
  ok: boolean;
}

/** `fleet` options without the specs and the kill timer: the plan's schedule does the kills. */
export type ScenarioFleetOptions = Omit<FleetOptions, 'specs' | 'killEveryS' | 'brokerFor' | 'onRunning'>;

export async function runScenario(
  fleet: ScenarioFleetOptions,
  scenario: Partial<ScenarioOptions> & { killEveryS?: number },
): Promise<ScenarioRun> {
  const o = { ...DEFAULT_SCENARIO, ...scenario, nodes: fleet.nodes, roles: fleet.roles };
  const plan = planFleet(o, { dataDir: fleet.dataDir, durationS: fleet.durationS });
  const stallGroup = new Set(stallGroupOf(plan));
  let brokerAt = { host: '127.0.0.1', port: 0 };
  const proxy: StallProxy | undefined = stallGroup.size > 0 ? await startStallProxy(() => brokerAt) : undefined;
  let faults: FaultRunner | undefined;
  let runStartMs = systemClock.now();
  let pulled: Drill = { result: Promise.resolve(undefined), cancel: () => undefined };
  try {
    const summary = await runFleet({
      ...fleet,
      specs: plan.specs,
      killEveryS: 0,
      ...(proxy
        ? {
            brokerFor: (id: string, brokerUrl: string) => {
              if (!stallGroup.has(id)) return brokerUrl;
              const u = new URL(brokerUrl);
              brokerAt = { host: u.hostname, port: Number(u.port) };
              return proxy.url;
            },
          }
        : {}),
      onRunning: (control) => {
        runStartMs = systemClock.now();
        const runner = runFaults(plan.faults, { hooks: control, clock: systemClock, ...(proxy ? { proxy } : {}) });
        faults = runner;
        // Under --auth the fleet has no credentials for one more client: no drill then.
        if (!fleet.credentials) pulled = drill(plan, runner, control.brokerUrl, fleet);
      },
    });
    await faults?.stop();
    const marks = faults?.marks() ?? [];
    // A run cut short (Ctrl-C) before the drill: its nodes are gone, there is nothing to pull.
    pulled.cancel();
    const pull = await pulled.result;
    const checks = await runChecks({
      plan,
      requester: { id: REQUESTER_ID, dataDir: path.join(fleet.dataDir, REQUESTER_ID) },
      marks,
      runStartMs,
      runMs: systemClock.now() - runStartMs,
      reputationRounds: o.reputationRounds,
      truthToleranceUnits: o.truthToleranceUnits,
      ...(pull ? { pulled: pull } : {}),
    });
    const report = buildReport(
      checks,
      {
        meta: metaOf(plan, summary),
        faults: marks,
        seconds: secondsOf(summary.samples),
        workers: workersOf(summary.samples, summary.hosting),
      },
      LATENCY_BUCKETS_MS,
    );
    return { summary, plan, checks, report: { ...report, ok: report.ok && summary.ok }, ok: summary.ok && checks.ok };
  } finally {
    await faults?.stop();
    await proxy?.close();
  }
}

interface Drill {
  result: Promise<PullBack | undefined>;
  /** Resolves `result` with undefined when the drill has not begun. */
  cancel(): void;
}

/**
 * At `PULL_AT_SHARE` of the run, the chunks of the node killed last (else of the first mapper) are
 * pulled back from the storage nodes and hashed again.
 */
function drill(plan: FleetPlan, faults: FaultRunner, broker: string, fleet: ScenarioFleetOptions): Drill {
  let cancel = (): void => undefined;
  const result = new Promise<PullBack | undefined>((resolve) => {
    const timer = systemClock.setTimeout(
      () => {
        cancel = () => undefined;
        const killed = faults
          .marks()
          .filter((m) => m.kind === 'kill' && m.nodes.length > 0)
          .at(-1)?.nodes[0];
        const node = killed ?? plan.specs.find((s) => s.roles.includes('mapper'))?.id ?? plan.specs[0]?.id ?? '';
        resolve(
          pullBack({
            broker,
            node,
            dataDir: fleet.dataDir,
            ...(fleet.topicPrefix !== undefined ? { topicPrefix: fleet.topicPrefix } : {}),
          }),
        );
      },
      fleet.durationS * PULL_AT_SHARE * 1000,
    );
    cancel = () => {
      systemClock.clearTimeout(timer);
      resolve(undefined);
    };
  });
  return { result, cancel: () => cancel() };
}

function metaOf(plan: FleetPlan, s: FleetSummary): FleetReport['meta'] {
  const behaviours: Record<string, number> = {};
  for (const x of plan.specs) behaviours[x.behaviour] = (behaviours[x.behaviour] ?? 0) + 1;
  const mappers = plan.specs.filter((x) => x.roles.includes('mapper')).length;
  const liars = (behaviours.liar ?? 0) + (behaviours.copier ?? 0);
  return {
    nodes: s.nodes,
    seconds: s.seconds,
    seed: plan.seed,
    broker: s.broker,
    liarShare: mappers ? liars / mappers : 0,
    behaviours,
  };
}

/** Cumulative counts per sample → counts within each second. */
function secondsOf(samples: readonly FleetSample[]): SecondSample[] {
  return samples.map((x, i) => {
    const prev = samples[i - 1];
    const d = (k: 'declared' | 'yes' | 'no' | 'silence' | 'offline'): number => x[k] - (prev?.[k] ?? 0);
    return {
      s: x.t,
      declared: d('declared'),
      yes: d('yes'),
      no: d('no'),
      silence: d('silence'),
      offline: d('offline'),
    };
  });
}

/** Each host's RSS and CPU share per second (its CPU seconds between samples). */
function workersOf(samples: readonly FleetSample[], mode: FleetSummary['hosting']): WorkerUsage[] {
  const out = new Map<string, WorkerUsage & { lastCpuS?: number; lastT?: number }>();
  for (const x of samples) {
    for (const h of x.hosts) {
      const name = hostName(h, mode);
      const w = out.get(name) ?? { name, nodes: h.nodes, samples: [] };
      const dt = w.lastT === undefined ? 0 : x.t - w.lastT;
      const cpuPct = dt > 0 && w.lastCpuS !== undefined ? Math.max(0, ((h.cpuS - w.lastCpuS) / dt) * 100) : 0;
      w.samples.push({ s: x.t, rssMB: roundTo(h.rssMB, 1), cpuPct: Math.round(cpuPct) });
      w.lastCpuS = h.cpuS;
      w.lastT = x.t;
      out.set(name, w);
    }
  }
  return [...out.values()].map(({ name, nodes, samples: s }) => ({ name, nodes, samples: s }));
}

/** `worker-3`, or `node-3` with one process per node. */
const hostName = (h: HostUsage, mode: FleetSummary['hosting']): string =>
  `${mode === 'procs' ? 'node' : 'worker'}-${h.host}`;

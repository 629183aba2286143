/**
 * The fleet's report: one JSON summary (`--json FILE`) with `ok`, the named checks, latency
 * percentiles per outcome, the per-second time series and the faults; the same data drawn as one
 * self-contained HTML page (`--report FILE.html`, report-html.ts).
 */
import type { CellTruth, ChecksResult, Percentiles, RoundReputation } from './checks.js';
import type { FaultMark } from './faults.js';

/** One second of the run as the host sampled it. */
export interface SecondSample {
  /** Seconds from the start of the run. */
  s: number;
  declared: number;
  yes: number;
  no: number;
  silence: number;
  offline: number;
}

/** Memory and CPU of one worker process (or one node process) over the run. */
export interface WorkerUsage {
  name: string;
  nodes: number;
  samples: Array<{ s: number; rssMB: number; cpuPct: number }>;
}

export interface ReportMeta {
  nodes: number;
  seconds: number;
  seed: number;
  broker: string;
  /** Liars and copiers over the mappers, share. */
  liarShare: number;
  behaviours: Record<string, number>;
}

export interface FleetReport {
  ok: boolean;
  checks: ChecksResult['checks'];
  meta: ReportMeta;
  latency: { bucketsMs: number[]; yes: Percentiles; no: Percentiles; silenceClose: Percentiles };
  /** Outcomes per second at every requester, per peer, by declaration second. */
  outcomes: ChecksResult['seconds'];
  /** What the host sampled each second (the requester's declarations and replies). */
  seconds: SecondSample[];
  faults: FaultMark[];
  cells: CellTruth[];
  reputation: RoundReputation[];
  workers: WorkerUsage[];
}

export function buildReport(
  checks: ChecksResult,
  extra: {
    meta: ReportMeta;
    faults: readonly FaultMark[];
    seconds?: readonly SecondSample[];
    workers?: readonly WorkerUsage[];
  },
  bucketsMs: readonly number[],
): FleetReport {
  return {
    ok: checks.ok,
    checks: checks.checks,
    meta: extra.meta,
    latency: { bucketsMs: bucketsMs.filter(Number.isFinite), ...checks.latency },
    outcomes: checks.seconds,
    seconds: [...(extra.seconds ?? [])],
    faults: [...extra.faults],
    cells: checks.cells,
    reputation: checks.reputation,
    workers: [...(extra.workers ?? [])],
  };
}

/** `check ok   classification: …` lines for the terminal, one per check, and the verdict. */
export function checksText(r: Pick<FleetReport, 'ok' | 'checks'>): string {
  const lines = r.checks.map((c) => `check ${c.ok ? 'ok    ' : 'FAILED'} ${c.name}: ${c.detail}`);
  lines.push(
    r.ok
      ? 'all checks hold'
      : `FAILED: ${r.checks
          .filter((c) => !c.ok)
          .map((c) => c.name)
          .join(', ')}`,
  );
  return `${lines.join('\n')}\n`;
}

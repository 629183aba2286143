/**
 * The fleet's built-in checks, run on the stopped folders with the plan and the fault marks. Each
 * is named in the output and the run is ok only when all hold:
 * - `classification`: exact outcomes at every requester (checks-classify.ts);
 * - `truth`: the robust consensus of every cell within the tolerance of its ground truth, with the
 *   error of each method beside it (checks-truth.ts);
 * - `reputation`: every liar below every honest node within R rounds at every surveyor (a cell
 *   with liars);
 * - `storage`: every node's series sound with no seq missing, entries evicted from it backed up,
 *   every pulled chunk matching its id.
 * Also the figures the report draws: latency percentiles per outcome, the outcome mix per second,
 * the error per cell and method, the reputations per round.
 */
import { join } from 'node:path';
import { SERIES_SUBDIR } from '../node/index.js';
import { cellOf, DEFAULT_CELL_PRECISION, DEFAULT_MIN_RESPONDERS } from '../observe/index.js';
import { roundTo } from '../round-to.js';
import { createSeries, type Entry, verifySeries } from '../series/index.js';
import {
  type ClassifyTally,
  classifySeries,
  type DeadWindow,
  emptyClassifyTally,
  type LatencySamples,
  presenceLogOf,
  type SecondBuckets,
} from './checks-classify.js';
import {
  judgeSurveyor,
  liarMajority,
  METHODS,
  type Method,
  type ReputationSample,
  separationRounds,
  type TruthSample,
} from './checks-truth.js';
import type { FaultMark } from './faults.js';
import type { FleetPlan } from './spec.js';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Percentiles {
  n: number;
  /** Counts per latency bucket, upper bounds in ms (`LATENCY_BUCKETS_MS`, the last one open). */
  histogram: number[];
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

export interface CellTruth {
  cell: string;
  truth: number;
  lat: number;
  lon: number;
  rounds: number;
  /** Mappers planned in the cell, count. */
  mappers: number;
  /** Enough mappers for a surveyor to get `minResponders` answers: a consensus is due. */
  due: boolean;
  liars: number;
  responders: number;
  /** Median over the rounds after the first R of each method's absolute error, metric unit. */
  error: Record<Method, number>;
}

export interface RoundReputation {
  round: number;
  liarMean: number;
  liarMax: number;
  honestMin: number;
  honestMean: number;
}

export interface ChecksInput {
  plan: FleetPlan;
  /** The fleet requester (its outcomes are judged beside the mappers' surveys). */
  requester?: { id: string; dataDir: string };
  marks: readonly FaultMark[];
  /** Wall ms when the declaring phase (and the fault clock) started. */
  runStartMs: number;
  /** Wall ms the declaring phase lasted; a run shorter than two survey periods is not held to a consensus per cell. */
  runMs?: number;
  reputationRounds: number;
  truthToleranceUnits: number;
  /** Chunks pulled back from the storage nodes (a killed node's), and those that did not hash to their id. */
  pulled?: { chunks: number; mismatched: number; node?: string; named?: number; failed?: number; error?: string };
}

export interface ChecksResult {
  ok: boolean;
  checks: CheckResult[];
  latency: Record<keyof LatencySamples, Percentiles>;
  /** Outcomes per second since the start, per peer. */
  seconds: Array<{ s: number; yes: number; no: number; silence: number; offline: number }>;
  cells: CellTruth[];
  reputation: RoundReputation[];
}

/** Upper bounds of the latency histogram's buckets, ms (log-spaced; the last bucket takes the rest). */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, Number.POSITIVE_INFINITY];

/** Margin around a Will and a birth seen by the requester: messages of one moment cross at the broker, ms. */
const KILL_SLACK_MS = 50;

/** Events the checks read from a series (the reputation folds the same ones the node does). */
const EVENTS = [
  'peer_added',
  'peer_removed',
  'intent_outcome',
  'consensus',
  'chunk_fetched',
  'chunk_rejected',
  'observation_rejected',
  'backup',
];

export async function runChecks(input: ChecksInput): Promise<ChecksResult> {
  const { plan } = input;
  const by = (b: string[]): Set<string> => new Set(plan.specs.filter((s) => b.includes(s.behaviour)).map((s) => s.id));
  const silent = by(['silent']);
  const requesterEntries = input.requester ? await readEntries(input.requester.dataDir).catch(() => [] as Entry[]) : [];
  const dead = deadWindows(input.marks, input.runStartMs, requesterEntries);
  const presenceLog = input.requester ? presenceLogOf(requesterEntries) : undefined;
  const presenceUntilMs = Math.max(0, ...requesterEntries.map((e) => e.t));
  const acc = {
    tally: emptyClassifyTally(),
    latency: { yes: [], no: [], silenceClose: [] } as LatencySamples,
    seconds: new Map() as SecondBuckets,
    truth: [] as TruthSample[],
    reputation: [] as ReputationSample[],
    storage: [] as string[],
  };
  const truthCtx = {
    truth: plan.truth,
    liars: by(['liar', 'copier']),
    honest: by(['honest', 'slow']),
    runStartMs: input.runStartMs,
  };
  const folders = plan.specs.map((s) => ({ id: s.id, dataDir: s.dataDir, mapper: s.roles.includes('mapper') }));
  if (input.requester) folders.push({ ...input.requester, mapper: false });
  for (const f of folders) {
    const entries = await readEntries(f.dataDir).catch((err: unknown) => {
      acc.storage.push(`${f.id}: series unreadable (${String(err)})`);
      return [] as Entry[];
    });
    classifySeries(
      f.id,
      entries,
      { silent, dead, runStartMs: input.runStartMs, ...(presenceLog ? { presenceLog, presenceUntilMs } : {}) },
      acc,
    );
    if (f.mapper) judgeSurveyor(f.id, entries, truthCtx, acc);
    await checkStorage(f.id, f.dataDir, entries, acc.storage);
  }
  const cells = cellTruths(plan, acc.truth, input.reputationRounds);
  const checks = [
    classificationCheck(acc.tally),
    truthCheck(cells, input.truthToleranceUnits, surveysFitted(plan, input.runMs)),
    reputationCheck(acc.reputation, input.reputationRounds),
    storageCheck(folders.length, acc.storage, input.pulled),
  ];
  return {
    ok: checks.every((c) => c.ok),
    checks,
    latency: {
      yes: percentiles(acc.latency.yes),
      no: percentiles(acc.latency.no),
      silenceClose: percentiles(acc.latency.silenceClose),
    },
    seconds: [...acc.seconds.entries()].sort((a, b) => a[0] - b[0]).map(([s, b]) => ({ s, ...b })),
    cells,
    reputation: roundReputation(acc.reputation),
  };
}

async function readEntries(dataDir: string): Promise<Entry[]> {
  const series = createSeries({ dir: join(dataDir, SERIES_SUBDIR), readOnly: true });
  await series.open();
  const out: Entry[] = [];
  try {
    for await (const e of series.read({ event: EVENTS })) out.push(e);
  } finally {
    await series.close();
  }
  return out;
}

/**
 * When nodes could not answer. A stall: the proxy's own window, exact. A kill: from the node's Will
 * to its new birth as the requester saw them (a SIGKILLed process's socket closes at once, so the
 * broker publishes the Will at its death; the kill mark itself starts before the signal and ends
 * after the restarted host said ready, later than its first nodes were back).
 */
function deadWindows(marks: readonly FaultMark[], startMs: number, requester: readonly Entry[]): DeadWindow[] {
  const out: DeadWindow[] = [];
  for (const m of marks) {
    const fromMs = startMs + m.startS * 1000;
    const toMs = startMs + m.endS * 1000;
    if (m.kind === 'stall') out.push({ kind: 'stall', fromMs, toMs, nodes: new Set(m.nodes) });
    if (m.kind !== 'kill') continue;
    for (const node of m.nodes) {
      const died = requester.find(
        (e) => e.event === 'peer_removed' && e.node === node && e.t >= fromMs - KILL_SLACK_MS,
      );
      if (died === undefined) continue; // no Will seen: nothing to judge against
      const back = requester.find((e) => e.event === 'peer_added' && e.node === node && e.t > died.t);
      out.push({
        kind: 'kill',
        fromMs: died.t + KILL_SLACK_MS,
        toMs: (back?.t ?? toMs) - KILL_SLACK_MS,
        nodes: new Set([node]),
      });
    }
  }
  return out;
}

/** Sound, no seq missing; entries evicted from the ring were backed up first (the backup mark passed them). */
async function checkStorage(id: string, dataDir: string, entries: readonly Entry[], problems: string[]): Promise<void> {
  const r = await verifySeries(join(dataDir, SERIES_SUBDIR)).catch(() => undefined);
  if (r === undefined) return;
  if (!r.sound || r.missingSeqs > 0) {
    problems.push(`${id}: series not sound (${r.corruptRecords} corrupt records, ${r.missingSeqs} missing seqs)`);
  }
  if (r.firstSeq > 1) {
    const mark = Math.max(0, ...entries.filter((e) => e.event === 'backup').map((e) => Number(e.mark) || 0));
    if (mark < r.firstSeq - 1)
      problems.push(`${id}: entries up to ${r.firstSeq - 1} evicted, backed up only to ${mark}`);
  }
}

function percentiles(xs: number[]): Percentiles {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number): number =>
    s.length === 0 ? 0 : (s[Math.min(s.length - 1, Math.floor(p * s.length))] as number);
  const histogram = LATENCY_BUCKETS_MS.map(() => 0);
  for (const x of s) {
    const i = LATENCY_BUCKETS_MS.findIndex((le) => x <= le);
    histogram[i < 0 ? histogram.length - 1 : i] = (histogram[i < 0 ? histogram.length - 1 : i] ?? 0) + 1;
  }
  return {
    n: s.length,
    histogram,
    p50: roundTo(at(0.5)),
    p90: roundTo(at(0.9)),
    p99: roundTo(at(0.99)),
    p999: roundTo(at(0.999)),
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** Per cell, the median error of each method over the rounds after the first R (all rounds when there are no more). */
function cellTruths(plan: FleetPlan, samples: readonly TruthSample[], skipRounds: number): CellTruth[] {
  return Object.entries(plan.truth).map(([cell, truth]) => {
    const all = samples.filter((s) => s.cell === cell);
    const settled = all.filter((s) => s.round > skipRounds);
    const use = settled.length > 0 ? settled : all;
    const here = plan.specs.filter(
      (s) => s.position !== undefined && cellOf(s.position.lat, s.position.lon, DEFAULT_CELL_PRECISION) === cell,
    );
    const spec = here[0];
    const answering = here.filter((s) => s.behaviour !== 'silent').length;
    const error = Object.fromEntries(METHODS.map((m) => [m, median(use.map((s) => s.errors[m]))])) as Record<
      Method,
      number
    >;
    return {
      cell,
      truth,
      lat: spec?.position?.lat ?? 0,
      lon: spec?.position?.lon ?? 0,
      rounds: all.length,
      mappers: here.length,
      due: answering >= (spec?.minResponders ?? DEFAULT_MIN_RESPONDERS) + 1,
      liars: Math.max(0, ...use.map((s) => s.liars)),
      responders: Math.max(0, ...use.map((s) => s.responders)),
      error,
    };
  });
}

function roundReputation(samples: readonly ReputationSample[]): RoundReputation[] {
  const rounds = new Map<number, ReputationSample[]>();
  for (const s of samples) rounds.set(s.round, [...(rounds.get(s.round) ?? []), s]);
  const mean = (xs: number[]): number => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
  return [...rounds.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([round, ss]) => {
      const liars = ss.flatMap((s) => s.liars);
      const honest = ss.flatMap((s) => s.honest);
      return {
        round,
        liarMean: mean(liars),
        liarMax: liars.length ? Math.max(...liars) : Number.NaN,
        honestMin: honest.length ? Math.min(...honest) : Number.NaN,
        honestMean: mean(honest),
      };
    });
}

function classificationCheck(t: ClassifyTally): CheckResult {
  const ok =
    t.outcomes > 0 &&
    t.miscounted + t.duplicateIds + t.silentAnswered + t.offlineWithoutWill + t.answeredWhileDead === 0;
  const detail =
    `${t.outcomes} outcomes: ${t.miscounted} miscounted, ${t.duplicateIds} closed twice; silent nodes ` +
    `${t.silentInSilence}/${t.silentExpected} times in silence, ${t.silentAnswered} answers; offline ` +
    `${t.offlineJustified} with their Will, ${t.offlineWithoutWill} without` +
    (t.offlineUnverified > 0 ? ` (${t.offlineUnverified} more at requesters that keep no presence entries)` : '') +
    `; ${t.answeredWhileDead} answers while dead` +
    (t.outcomes === 0 ? '; no outcome to judge' : '') +
    (t.examples.length > 0 ? ` (e.g. ${t.examples.join('; ')})` : '');
  return { name: 'classification', ok, detail };
}

/**
 * Whether the run lasted long enough for every mapper's survey to have run: two periods (the first
 * round comes at a jittered point of the first period). Unknown length: assumed long enough.
 */
function surveysFitted(plan: FleetPlan, runMs: number | undefined): boolean {
  if (runMs === undefined) return true;
  const periodS = Math.max(0, ...plan.specs.map((s) => s.surveyEveryS ?? 0));
  return periodS === 0 || runMs >= 2 * periodS * 1000;
}

function truthCheck(cells: readonly CellTruth[], tolerance: number, fitted: boolean): CheckResult {
  // Where liars are half the responders or more, the consensus follows them: not expected to hold.
  const majority = cells.filter((c) => c.rounds > 0 && liarMajority(c.liars, c.responders));
  const judged = cells.filter((c) => c.rounds > 0 && !majority.includes(c));
  const unsurveyed = cells.filter((c) => c.due && c.rounds === 0);
  // A run shorter than two survey periods proves nothing about a cell no survey reached: said, not failed.
  const missing = fitted ? unsurveyed : [];
  const bad = judged.filter((c) => !(c.error.median <= tolerance));
  if (judged.length === 0 && missing.length === 0) {
    return {
      name: 'truth',
      ok: true,
      detail:
        unsurveyed.length > 0
          ? `the run was shorter than two survey periods: ${unsurveyed.length} cells not surveyed yet (inconclusive)`
          : 'no cell has enough answering mappers for a trusted consensus: nothing to judge',
    };
  }
  const byMethod = METHODS.map((m) => `${m} ${fmt(median(judged.map((c) => c.error[m])))}`).join(', ');
  const detail =
    `${judged.length}/${cells.length} cells with a consensus; median error per cell: ${byMethod} (tolerance ${tolerance})` +
    (missing.length > 0 ? `; no consensus where one was due: ${missing.map((c) => c.cell).join(', ')}` : '') +
    (bad.length > 0 ? `; over it: ${bad.map((c) => `${c.cell} ${fmt(c.error.median)}`).join(', ')}` : '') +
    (majority.length > 0
      ? `; not judged, liars a majority of the responders: ${majority.map((c) => `${c.cell} ${c.liars}/${c.responders} (error ${fmt(c.error.median)})`).join(', ')}`
      : '');
  return { name: 'truth', ok: missing.length === 0 && bad.length === 0, detail };
}

function reputationCheck(samples: readonly ReputationSample[], rounds: number): CheckResult {
  const all = [...separationRounds(samples).entries()];
  // A surveyor-cell where liars held a majority of the responders is not expected to separate.
  const majority = all.filter(([, x]) => x.majority === true);
  const sep = all.filter(([, x]) => x.majority !== true);
  if (sep.length === 0) {
    return {
      name: 'reputation',
      ok: true,
      detail:
        'no cell with both liars and honest responders: nothing to separate' +
        (majority.length > 0 ? ` (${majority.length} not judged, liars a majority of the responders)` : ''),
    };
  }
  const inTime = sep.filter(([, x]) => x.round !== undefined && x.round <= rounds);
  // A run too short for R rounds proves nothing either way: said, not failed.
  const short = sep.filter(([, x]) => (x.round === undefined || x.round > rounds) && x.rounds < rounds);
  const late = sep.filter(([, x]) => (x.round === undefined || x.round > rounds) && x.rounds >= rounds);
  const found = sep.map(([, x]) => x.round).filter((r): r is number => r !== undefined);
  const detail =
    `${inTime.length}/${sep.length} surveyor-cells ranked every liar below every honest node within ${rounds} rounds` +
    (found.length > 0 ? ` (round median ${median(found)}, max ${Math.max(...found)})` : '') +
    (short.length > 0 ? `; ${short.length} had fewer than ${rounds} rounds (inconclusive)` : '') +
    (majority.length > 0 ? `; ${majority.length} not judged, liars a majority of the responders` : '') +
    (late.length > 0
      ? `; not: ${late
          .slice(0, 5)
          .map(([k, x]) => `${k} ${x.round ?? 'never'}`)
          .join(', ')}`
      : '');
  return { name: 'reputation', ok: late.length === 0 && inTime.length + short.length === sep.length, detail };
}

function storageCheck(nodes: number, problems: readonly string[], pulled: ChecksInput['pulled']): CheckResult {
  const bad = pulled?.mismatched ?? 0;
  const drill = pulled
    ? `; ${pulled.chunks} chunks${pulled.node ? ` of ${pulled.node}` : ''} pulled back` +
      (pulled.named !== undefined ? ` (${pulled.named} named, ${pulled.failed ?? 0} not fetched)` : '') +
      `, ${bad} not matching their id` +
      (pulled.error ? `; the pull failed: ${pulled.error}` : '')
    : '';
  const detail =
    `${nodes - new Set(problems.map((p) => p.split(':')[0])).size}/${nodes} series sound with every entry kept or backed up` +
    drill +
    (problems.length > 0 ? ` (${problems.slice(0, 5).join('; ')})` : '');
  return { name: 'storage', ok: problems.length === 0 && bad === 0 && pulled?.error === undefined, detail };
}

const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '-');

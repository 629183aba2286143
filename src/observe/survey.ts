/**
 * The survey loop of a mapper node: every `everyS` seconds (each wait uniform in
 * [0.8·S, 1.2·S] from the injected `random`, `SURVEY_JITTER_SHARE`, so a fleet started together
 * does not declare in lockstep) it asks `want_observations` for the cells it observed in since it
 * last surveyed them, plus the configured cells or geohash prefixes, and writes the consensus per
 * cell and metric (the injected `request`: the observe service's `observe`, which also updates the
 * reputation views and pushes the consensus chunk).
 *
 * - Bounded: at most `maxCellsPerRound` (`MAX_SURVEY_CELLS_PER_ROUND`) subjects per round, the one
 *   unsurveyed for longest first (an observed cell is keyed by its first observation since it was
 *   last surveyed, a configured one by the survey that last covered it, never-surveyed first).
 * - One `survey` entry per round (shared contract): `{round, cells, outcome, reason?, consensus,
 *   low_confidence, responders, elapsed_ms}`; a round is `skipped` while the broker is away
 *   (reason `broker_offline`), while `pressure()` says busy (`cpu_busy` / `memory_low`) or when
 *   there is nothing to ask (`no_cells`); `failed` when every request of the round threw (reason:
 *   the error's code).
 * - The next wait starts when a round ends, so rounds never overlap. `stop()` cancels the wait and
 *   lets an in-flight round finish its current cell (the rest is left for later), never rejecting.
 * - What is pending and the last round live in the `observe.survey` view, folded from the series:
 *   the round number and the unsurveyed cells carry across restarts.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';
import type { BackgroundPressure } from '../node/types.js';
import type { Entry, EntryInput, Series, View } from '../series/types.js';
import {
  DEFAULT_SURVEY_EVERY_S,
  MAX_SURVEY_CELLS_PER_ROUND,
  MAX_SURVEY_TRACKED_CELLS,
  SURVEY_JITTER_SHARE,
} from './constants.js';
import { asObservation, OBSERVATION_EVENT } from './observation.js';
import type { RequestResult } from './request.js';

export const SURVEY_EVENT = 'survey';
export const SURVEY_VIEW = 'observe.survey';

export type SurveyOutcome = 'done' | 'skipped' | 'failed';

/** The reason of a round skipped while the node is not connected to its broker. */
export const BROKER_OFFLINE = 'broker_offline';

export interface SurveyFields {
  round: number;
  cells: string[];
  outcome: SurveyOutcome;
  reason?: string;
  consensus: number;
  low_confidence: number;
  responders: number;
  elapsed_ms: number;
}

export type SurveyEntry = Entry & SurveyFields & { event: 'survey' };

/** Plain data (snapshot-able), each table at most `MAX_SURVEY_TRACKED_CELLS` cells. */
export interface SurveyState {
  /** The last round written (0 before any). */
  round: number;
  /** Observed cell → seq of its first observation since it was last surveyed. */
  pending: Record<string, number>;
  /** Cell or prefix → seq of the `survey` entry that last covered it. */
  surveyed: Record<string, number>;
}

/** Drop the entry with the lowest seq (the stalest) while over the bound. */
function boundBySeq(table: Record<string, number>, max: number): void {
  const keys = Object.keys(table);
  if (keys.length <= max) return;
  keys.sort((a, b) => (table[a] as number) - (table[b] as number));
  for (const k of keys.slice(0, keys.length - max)) delete table[k];
}

function foldSurvey(state: SurveyState, e: Entry, max: number): void {
  if (typeof e.round === 'number' && e.round > state.round) state.round = e.round;
  if (e.outcome !== 'done' || !Array.isArray(e.cells)) return;
  const cells = e.cells.filter((c): c is string => typeof c === 'string');
  for (const c of cells) state.surveyed[c] = e.seq;
  // A prefix survey mapped every observed cell inside it.
  for (const p of Object.keys(state.pending)) if (cells.some((c) => p.startsWith(c))) delete state.pending[p];
  boundBySeq(state.surveyed, max);
}

/**
 * The survey view. A new observed cell beyond the bound is not tracked until its next observation
 * after room was made (a stationary or moving mapper keeps observing, so it comes back). A reading
 * taken while a round runs counts as surveyed by it when the round covered its cell.
 */
export function createSurveyView(max = MAX_SURVEY_TRACKED_CELLS): View<SurveyState> {
  return {
    name: SURVEY_VIEW,
    events: [OBSERVATION_EVENT, SURVEY_EVENT],
    initial: () => ({ round: 0, pending: {}, surveyed: {} }),
    apply(state, e) {
      if (e.event === SURVEY_EVENT) foldSurvey(state, e, max);
      else {
        const o = asObservation(e);
        if (o && state.pending[o.cell] === undefined && Object.keys(state.pending).length < max) {
          state.pending[o.cell] = e.seq;
        }
      }
      return state;
    },
  };
}

/**
 * This round's subjects: observed cells not yet surveyed and the configured cells/prefixes, the
 * one waiting longest first, at most `max`. An observed cell inside a configured prefix is left to
 * the prefix (one intent maps both).
 */
export function surveyCells(state: SurveyState, configured: readonly string[], max: number): string[] {
  const waiting = new Map<string, number>();
  for (const [cell, since] of Object.entries(state.pending)) {
    if (!configured.some((p) => cell.startsWith(p))) waiting.set(cell, since);
  }
  for (const p of configured) waiting.set(p, state.surveyed[p] ?? -1);
  return [...waiting.entries()]
    .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, max)
    .map(([cell]) => cell);
}

export interface SurveyDeps {
  series: Series;
  clock: Clock;
  log: Logger;
  /** Busy now (`NodeComponents.pressure`): the round is skipped. */
  pressure(): BackgroundPressure | undefined;
  /**
   * Connected to the broker now. Default always. A round while the broker is away would ask
   * nobody and write an empty consensus: it is skipped (`broker_offline`) instead.
   */
  online?: () => boolean;
  /** Ask one cell or prefix and write its consensus (the observe service's `observe`). */
  request(cell: string): Promise<RequestResult>;
  /** Uniform in [0,1). Default `Math.random` (tests pass a fixed one). */
  random?: () => number;
}

export interface SurveyOptions {
  /** s between rounds, jittered ±`SURVEY_JITTER_SHARE`. Default `DEFAULT_SURVEY_EVERY_S` (60); 0 = off. */
  everyS?: number;
  /** Cells or geohash prefixes asked about every round they are due, besides the observed ones. Default none. */
  cells?: readonly string[];
  /** Default `MAX_SURVEY_CELLS_PER_ROUND` (16). */
  maxCellsPerRound?: number;
}

/** Rounds this loop recorded since it was created (the metrics' counters). */
export interface SurveyStats {
  rounds: Record<SurveyOutcome, number>;
  /** Wall-clock ms of the last recorded round; undefined before the first. */
  lastRoundT: number | undefined;
}

export interface SurveyLoop {
  /** Schedules the first round one jittered period from now (nothing when `everyS` is 0). */
  start(): void;
  /** Cancels the wait; resolves once an in-flight round ended (it never rejects). */
  stop(): Promise<void>;
  /** Runs a round now, or returns the one in flight (rounds never overlap). */
  runRound(): Promise<SurveyEntry | undefined>;
  /** Resolves when no round is in flight. */
  settled(): Promise<void>;
  stats(): SurveyStats;
}

interface Tally {
  asked: string[];
  results: RequestResult[];
  firstError?: unknown;
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code !== '' ? code : 'error';
}

/** The `survey` entry of a round that asked (`done`, or `failed` when every request threw). */
function askedEntry(round: number, t: Tally, elapsedMs: number): EntryInput & SurveyFields {
  const consensus = t.results.flatMap((r) => r.consensus);
  const entry: EntryInput & SurveyFields = {
    event: SURVEY_EVENT,
    round,
    cells: t.asked,
    outcome: t.results.length === 0 && t.firstError !== undefined ? 'failed' : 'done',
    consensus: consensus.length,
    low_confidence: consensus.filter((c) => c.low_confidence === true).length,
    responders: consensus.reduce((m, c) => Math.max(m, c.responders.length), 0),
    elapsed_ms: Math.round(elapsedMs),
  };
  if (entry.outcome === 'failed') entry.reason = errorCode(t.firstError);
  return entry;
}

function skippedEntry(round: number, cells: string[], reason: string): EntryInput & SurveyFields {
  return {
    event: SURVEY_EVENT,
    round,
    cells,
    outcome: 'skipped',
    reason,
    consensus: 0,
    low_confidence: 0,
    responders: 0,
    elapsed_ms: 0,
  };
}

/** One request per cell, in turn; a failed one is logged and the round goes on. */
async function askEach(deps: SurveyDeps, cells: readonly string[], stopping: () => boolean): Promise<Tally> {
  const t: Tally = { asked: [], results: [] };
  for (const cell of cells) {
    if (stopping()) break; // the rest waits for the next start (still pending in the view)
    t.asked.push(cell);
    try {
      t.results.push(await deps.request(cell));
    } catch (err) {
      t.firstError ??= err;
      deps.log.warn({ err, cell }, 'survey: request failed');
    }
  }
  return t;
}

export function createSurveyLoop(deps: SurveyDeps, options: SurveyOptions = {}): SurveyLoop {
  const everyMs = (options.everyS ?? DEFAULT_SURVEY_EVERY_S) * 1000;
  const configured = [...(options.cells ?? [])];
  const max = options.maxCellsPerRound ?? MAX_SURVEY_CELLS_PER_ROUND;
  const random = deps.random ?? Math.random;
  let timer: TimerHandle | undefined;
  let inFlight: Promise<SurveyEntry | undefined> | undefined;
  let started = false;
  let stopping = false;
  const stats: SurveyStats = { rounds: { done: 0, skipped: 0, failed: 0 }, lastRoundT: undefined };

  const schedule = (): void => {
    if (!started || stopping || everyMs <= 0) return;
    const wait = everyMs * (1 - SURVEY_JITTER_SHARE + 2 * SURVEY_JITTER_SHARE * random());
    timer = deps.clock.setTimeout(() => {
      timer = undefined;
      void runRound().finally(schedule);
    }, wait);
  };

  async function round(): Promise<SurveyEntry | undefined> {
    const state = deps.series.view<SurveyState>(SURVEY_VIEW);
    const n = state.round + 1;
    const cells = surveyCells(state, configured, max);
    const busy = deps.online?.() === false ? BROKER_OFFLINE : deps.pressure();
    if (busy !== undefined) return (await deps.series.append(skippedEntry(n, cells, busy))) as SurveyEntry;
    if (cells.length === 0) return (await deps.series.append(skippedEntry(n, [], 'no_cells'))) as SurveyEntry;
    const from = deps.clock.monotonic();
    const t = await askEach(deps, cells, () => stopping);
    if (t.asked.length === 0) return undefined; // stopped before asking anything: no round happened
    return (await deps.series.append(askedEntry(n, t, deps.clock.monotonic() - from))) as SurveyEntry;
  }

  function runRound(): Promise<SurveyEntry | undefined> {
    inFlight ??= round()
      .then((entry) => {
        if (entry) {
          stats.rounds[entry.outcome]++;
          stats.lastRoundT = entry.t;
        }
        return entry;
      })
      .catch((err: unknown) => {
        // The series refused the entry (closing, disk full): logged, the loop goes on.
        deps.log.warn({ err }, 'survey: round not recorded');
        return undefined;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  return {
    start() {
      if (started) return;
      started = true;
      stopping = false;
      schedule();
    },
    async stop() {
      started = false;
      stopping = true;
      deps.clock.clearTimeout(timer);
      timer = undefined;
      await inFlight;
    },
    runRound,
    async settled() {
      await inFlight;
    },
    stats: () => ({ rounds: { ...stats.rounds }, lastRoundT: stats.lastRoundT }),
  };
}

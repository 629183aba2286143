/**
 * Background backup: a running node pushes its own series to K storage nodes, from its push mark.
 *
 * What it pushes: the range after the mark up to the last entry that was durable at the previous
 * round (entries get one round to settle), cut by the chunking policy. Full chunks go as soon as
 * they settled; the short tail (a partial chunk) waits until it has been pending
 * `partialAfterMs`, so a slow stream is not scattered over tiny chunks. The mark (`pushed_to_seq`
 * of the `chunks` view) moves only over chunks replicated K times, and lives in the series: a
 * restart resumes from it, and a chunk that K holders already announce is not sent again.
 *
 * Pacing: a round every `roundMs`, at most `maxChunksPerRound` chunks, one in flight; no round while
 * the broker is away, fewer than K storage nodes are online, or the node's limiters say it is busy.
 * Each state change (never each round) is one `backup` entry and one log line.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';
import type { BackgroundPressure } from '../node/types.js';
import type { Chunk, Series } from '../series/index.js';
import type { BackupViewState } from './backup-view.js';
import {
  BACKUP_ENTRY_MIN_GAP_MS,
  BACKUP_PARTIAL_AFTER_MS,
  BACKUP_ROUND_MAX_CHUNKS,
  BACKUP_ROUND_MS,
  BACKUP_VIEW,
  CHUNKS_VIEW,
} from './constants.js';
import type { PushResult } from './push.js';
import type { ChunksState } from './view.js';

export type BackupStateName = 'waiting' | 'pushing' | 'caught_up' | 'paused';

/** Why a backup waits or pauses: these, or the code of the error that failed a round. */
export type BackupReason =
  | BackgroundPressure
  | 'too_few_storage_nodes'
  | 'broker_offline'
  | 'short_of_k'
  | (string & Record<never, never>);

export interface BackupState {
  state: BackupStateName;
  reason?: BackupReason;
  /** Replication target. */
  k: number;
  /** Storage nodes online now, this node excluded. */
  online: number;
  /** Highest own seq replicated K times (`pushed_to_seq`). */
  mark: number;
  /** The series' last seq. */
  lastSeq: number;
  /** Entries after the mark worth a backup (replication bookkeeping at the tail not counted). */
  lag: number;
  /** Rounds run since start (skipped ones included). */
  rounds: number;
}

export interface BackupDeps {
  series: Series;
  clock: Clock;
  log: Logger;
  /** Storage (`bt`) nodes online now, this node excluded. */
  storageNodes(): readonly string[];
  connected(): boolean;
  pressure(): BackgroundPressure | undefined;
  /** The chunks of the own series `fromSeq..toSeq`, cut in one pass. */
  cut(fromSeq: number, toSeq: number): AsyncIterable<Chunk>;
  /** Pushes in order to K, writing `chunk_pushed` entries (the mark moves over met prefixes only). */
  push(chunks: AsyncIterable<Chunk>): Promise<PushResult[]>;
  /** True while another push of the series runs (`pushSeries`): the round is skipped. */
  busy(): boolean;
}

export interface BackupOptions {
  /** Replication target K (> 0). */
  replicate: number;
  /** Between rounds, ms. Default `BACKUP_ROUND_MS` (3000). */
  roundMs?: number;
  /** Most chunks per round. Default `BACKUP_ROUND_MAX_CHUNKS` (8). */
  maxChunksPerRound?: number;
  /** A partial tail chunk is pushed once pending this long, ms. Default `BACKUP_PARTIAL_AFTER_MS` (60 000). */
  partialAfterMs?: number;
  /**
   * At least this long between two `backup` entries (and their log lines), ms: a state that flaps
   * (pressure around a threshold) is told when it lasts, not at every flip. Default
   * `BACKUP_ENTRY_MIN_GAP_MS` (30 000).
   */
  minEntryGapMs?: number;
}

export interface Backup {
  /**
   * Schedules the first round one period later: meanwhile the have tracker receives the retained
   * records, so chunks already held (sent before a crash) are recognised.
   */
  start(): void;
  /** No new round; resolves once the running one ended. */
  stop(): Promise<void>;
  state(): BackupState;
  /** Resolves once no round is running (tests on a manual clock advance, then await this). */
  idle(): Promise<void>;
}

interface Verdict {
  state: BackupStateName;
  reason?: BackupReason;
}

/** What a round's cut found: more full chunks than its budget, and whether it sent the tail. */
interface Plan {
  moreDue: boolean;
  sentTail: boolean;
}

export function createBackup(deps: BackupDeps, options: BackupOptions): Backup {
  const k = options.replicate;
  const roundMs = options.roundMs ?? BACKUP_ROUND_MS;
  const minEntryGapMs = options.minEntryGapMs ?? BACKUP_ENTRY_MIN_GAP_MS;
  const { series, clock, log } = deps;
  let current: Verdict = { state: 'waiting' };
  let timer: TimerHandle | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;
  const cursor: Cursor = { settledSeq: 0, tailSince: 0 };
  const pacing = {
    maxChunks: options.maxChunksPerRound ?? BACKUP_ROUND_MAX_CHUNKS,
    partialAfterMs: options.partialAfterMs ?? BACKUP_PARTIAL_AFTER_MS,
  };
  let rounds = 0;

  const state = (): BackupState => stateOf(deps, k, current, rounds);
  const teller = stateTeller({ series, clock, log, k, minEntryGapMs });
  const become = (v: Verdict): void => {
    current = v;
    teller(v, state());
  };

  const round = async (): Promise<void> => {
    if (deps.busy()) return;
    const stop = blocked(deps, k);
    if (stop) {
      cursor.settledSeq = series.durableSeq;
      return become(stop);
    }
    try {
      become(await pushRound(deps, cursor, pacing));
    } catch (err) {
      if (stopped) return; // the node stopped under the push: nothing to report
      const code = (err as { code?: unknown }).code;
      become({ state: 'paused', reason: typeof code === 'string' ? code : 'push_failed' });
      log.warn({ err: String(err) }, 'backup: a round failed; retried next round');
    }
  };

  const schedule = (ms: number): void => {
    if (stopped) return;
    timer = clock.setTimeout(() => {
      running = round().finally(() => {
        rounds += 1;
        running = undefined;
        schedule(roundMs);
      });
    }, ms);
  };

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      cursor.settledSeq = series.durableSeq;
      cursor.tailSince = clock.monotonic();
      schedule(roundMs);
    },
    async stop() {
      stopped = true;
      clock.clearTimeout(timer);
      await running;
    },
    state,
    async idle() {
      await running;
    },
  };
}

/** Where the backup is in the series between rounds. */
interface Cursor {
  /** Entries durable at the previous round: what this round may push (they had a round to settle). */
  settledSeq: number;
  /** Since when the unpushed tail has been pending (monotonic ms). */
  tailSince: number;
}

const markOf = (series: Series): number => series.view<ChunksState>(CHUNKS_VIEW).pushed_to_seq;
const lastDataSeqOf = (series: Series): number => series.view<BackupViewState>(BACKUP_VIEW).last_data_seq;

function stateOf(deps: BackupDeps, k: number, current: Verdict, rounds: number): BackupState {
  const m = markOf(deps.series);
  return {
    state: current.state,
    ...(current.reason !== undefined ? { reason: current.reason } : {}),
    k,
    online: deps.storageNodes().length,
    mark: m,
    lastSeq: deps.series.lastSeq,
    lag: Math.max(0, lastDataSeqOf(deps.series) - m),
    rounds,
  };
}

/** Why no round may run now, or undefined. */
function blocked(deps: BackupDeps, k: number): Verdict | undefined {
  if (!deps.connected()) return { state: 'paused', reason: 'broker_offline' };
  const busy = deps.pressure();
  if (busy) return { state: 'paused', reason: busy };
  if (deps.storageNodes().length < k) return { state: 'waiting', reason: 'too_few_storage_nodes' };
  return undefined;
}

/** One round's push: the settled range after the mark, full chunks first, the tail once due. */
async function pushRound(
  deps: BackupDeps,
  cursor: Cursor,
  pacing: { maxChunks: number; partialAfterMs: number },
): Promise<Verdict> {
  const { series, clock } = deps;
  const settled = cursor.settledSeq;
  cursor.settledSeq = series.durableSeq;
  const from = markOf(series) + 1;
  if (lastDataSeqOf(series) < from) {
    cursor.tailSince = clock.monotonic(); // nothing pending: a tail starts pending from about now
    return { state: 'caught_up' };
  }
  if (settled < from) return { state: 'caught_up' }; // pending, not settled yet
  const plan: Plan = { moreDue: false, sentTail: false };
  const tailDue = clock.monotonic() - cursor.tailSince >= pacing.partialAfterMs;
  const results = await deps.push(planned(deps.cut(from, settled), pacing.maxChunks, tailDue, plan));
  if (results.some((r) => !r.met)) return { state: 'paused', reason: 'short_of_k' };
  if (plan.sentTail) cursor.tailSince = clock.monotonic();
  return plan.moreDue ? { state: 'pushing' } : { state: 'caught_up' };
}

function reasonOf(v: Verdict): { reason?: string } {
  return v.reason !== undefined ? { reason: v.reason } : {};
}

/**
 * One `backup` entry and one log line per change (a waiting node also tells a new online count),
 * at most one per `minEntryGapMs`: a change within the gap is told at a later round if it lasts.
 */
function stateTeller(t: {
  series: Series;
  clock: Clock;
  log: Logger;
  k: number;
  minEntryGapMs: number;
}): (v: Verdict, s: BackupState) => void {
  const { series, clock, log, k } = t;
  // The state last told (entry and log line), and when (monotonic ms).
  let toldKey: string | undefined;
  let toldAt = Number.NEGATIVE_INFINITY;
  return (v, s) => {
    const key = `${v.state}|${v.reason ?? ''}|${v.state === 'waiting' ? s.online : ''}`;
    if (key === toldKey || clock.monotonic() - toldAt < t.minEntryGapMs) return;
    const enteredWaiting = v.state === 'waiting' && !toldKey?.startsWith('waiting|');
    toldKey = key;
    toldAt = clock.monotonic();
    const fields = { k, online: s.online, mark: s.mark, lag: s.lag, ...(v.reason ? { reason: v.reason } : {}) };
    try {
      series.record({ event: 'backup', state: v.state, k, online: s.online, mark: s.mark, ...reasonOf(v) });
    } catch (err) {
      log.warn({ err: String(err) }, 'backup: could not record its state');
    }
    if (enteredWaiting)
      log.warn(fields, `backup: waiting, only ${s.online} of ${k} storage nodes online; resumes when enough join`);
    else if (v.state === 'paused' && v.reason === 'short_of_k')
      log.warn(fields, 'backup: a chunk fell short of K replicas; retried next round');
    else log.info(fields, `backup: ${v.state.replace('_', ' ')}`);
  };
}

/** Full chunks first, at most `maxChunks`; the last chunk cut (maybe partial) only when `tailDue`. */
async function* planned(
  src: AsyncIterable<Chunk>,
  maxChunks: number,
  tailDue: boolean,
  plan: Plan,
): AsyncGenerator<Chunk> {
  let held: Chunk | undefined;
  let sent = 0;
  for await (const c of src) {
    if (held) {
      if (sent >= maxChunks) {
        plan.moreDue = true;
        return;
      }
      yield held;
      sent += 1;
    }
    held = c;
  }
  if (!held || !tailDue) return;
  if (sent >= maxChunks) {
    plan.moreDue = true;
    return;
  }
  yield held;
  plan.sentTail = true;
}

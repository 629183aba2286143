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
import type { Chunk, Series } from '../series/types.js';
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

export function createBackup(deps: BackupDeps, o: BackupOptions): Backup {
  const k = o.replicate;
  const roundMs = o.roundMs ?? BACKUP_ROUND_MS;
  const maxChunks = o.maxChunksPerRound ?? BACKUP_ROUND_MAX_CHUNKS;
  const partialAfterMs = o.partialAfterMs ?? BACKUP_PARTIAL_AFTER_MS;
  const minEntryGapMs = o.minEntryGapMs ?? BACKUP_ENTRY_MIN_GAP_MS;
  const { series, clock, log } = deps;
  let current: Verdict = { state: 'waiting' };
  // The state last told (entry and log line), and when (monotonic ms).
  let toldKey: string | undefined;
  let toldAt = Number.NEGATIVE_INFINITY;
  let timer: TimerHandle | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;
  // Entries durable at the previous round: what this round may push (they had a round to settle).
  let settledSeq = 0;
  // Since when the unpushed tail has been pending (monotonic ms).
  let tailSince = 0;
  let rounds = 0;

  const mark = (): number => series.view<ChunksState>(CHUNKS_VIEW).pushed_to_seq;
  const lastDataSeq = (): number => series.view<BackupViewState>(BACKUP_VIEW).last_data_seq;
  const online = (): number => deps.storageNodes().length;

  const state = (): BackupState => {
    const m = mark();
    return {
      state: current.state,
      ...(current.reason !== undefined ? { reason: current.reason } : {}),
      k,
      online: online(),
      mark: m,
      lastSeq: series.lastSeq,
      lag: Math.max(0, lastDataSeq() - m),
      rounds,
    };
  };

  /**
   * One `backup` entry and one log line per change (a waiting node also tells a new online count),
   * at most one per `minEntryGapMs`: a change within the gap is told at a later round if it lasts.
   */
  const become = (v: Verdict): void => {
    current = v;
    const s = state();
    const key = `${v.state}|${v.reason ?? ''}|${v.state === 'waiting' ? s.online : ''}`;
    if (key === toldKey || clock.monotonic() - toldAt < minEntryGapMs) return;
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

  /** Why no round may run now, or undefined. */
  const blocked = (): Verdict | undefined => {
    if (!deps.connected()) return { state: 'paused', reason: 'broker_offline' };
    const busy = deps.pressure();
    if (busy) return { state: 'paused', reason: busy };
    if (online() < k) return { state: 'waiting', reason: 'too_few_storage_nodes' };
    return undefined;
  };

  /** Full chunks first, at most `maxChunks`; the last chunk cut (maybe partial) only when `tailDue`. */
  async function* planned(src: AsyncIterable<Chunk>, tailDue: boolean, plan: Plan): AsyncGenerator<Chunk> {
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

  const pushRound = async (): Promise<Verdict> => {
    const settled = settledSeq;
    settledSeq = series.durableSeq;
    const from = mark() + 1;
    if (lastDataSeq() < from) {
      tailSince = clock.monotonic(); // nothing pending: a tail starts pending from about now
      return { state: 'caught_up' };
    }
    if (settled < from) return { state: 'caught_up' }; // pending, not settled yet
    const plan: Plan = { moreDue: false, sentTail: false };
    const tailDue = clock.monotonic() - tailSince >= partialAfterMs;
    const results = await deps.push(planned(deps.cut(from, settled), tailDue, plan));
    if (results.some((r) => !r.met)) return { state: 'paused', reason: 'short_of_k' };
    if (plan.sentTail) tailSince = clock.monotonic();
    return plan.moreDue ? { state: 'pushing' } : { state: 'caught_up' };
  };

  const round = async (): Promise<void> => {
    if (deps.busy()) return;
    const stop = blocked();
    if (stop) {
      settledSeq = series.durableSeq;
      return become(stop);
    }
    try {
      become(await pushRound());
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
      settledSeq = series.durableSeq;
      tailSince = clock.monotonic();
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

function reasonOf(v: Verdict): { reason?: string } {
  return v.reason !== undefined ? { reason: v.reason } : {};
}

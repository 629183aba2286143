/**
 * The sync pacer: `batch` commits of every series on one storage device take turns, at most one
 * commit start per `intervalMs` for the whole device.
 *
 * Why per device and not per series: a flush costs the DEVICE, not the series. An SD card takes
 * each fdatasync as a cache flush (wear, and milliseconds during which other writes queue), and an
 * O_DSYNC write costs CPU however few bytes it carries. One node on a board has one series, so
 * nothing changes there: its commits start at most once per window. N nodes in one process (the
 * field, fleet tests, the benchmarks) with a window each would make the device take
 * N × 1000 / windowMs flushes a second, more CPU than their intent rounds themselves (figures:
 * docs/design-notes.md "Group commit"). RocksDB (one WAL for all column families) and PostgreSQL (one WAL for all
 * databases) bound flushes per device the same way; here the series stay separate files, so the
 * commits share a schedule instead of a file.
 *
 * The rule: a series with records waiting asks for a turn (`request`); turns are granted in FIFO
 * order, each at least `intervalMs` after the previous grant (the first at once, in a microtask,
 * so the appends of the current turn join it). A series is queued at most once, so with S series
 * waiting each one's records are durable within S × intervalMs of their turn being asked: the
 * window stretches with the number of series sharing the device, the flush rate does not.
 * Two queues: a series whose records someone awaits (an `append` promise) is `awaited`; one that
 * only holds `record`ed entries (decisions, outcomes: nobody waits) is background. Awaited series
 * go first, but when background series wait, at most `AWAITED_RUN` awaited turns come in a row:
 * an awaited append waits for about (awaited series) turns however many background series share
 * the device, and background series still get at least one turn in `AWAITED_RUN + 1`. Measured
 * with 7 nodes in one process: a chunk push, which awaits its `chunk_pushed` entry, took 37 ms at
 * p50 with one FIFO for all, 18 ms with turns alternating, and 10 ms (as before the pacer) so.
 * Commits that do not wait for a turn (a full batch, a flush, a rotation) still count as starts
 * (`started`), so the next turn keeps its distance from them.
 */
import { type Clock, systemClock, type TimerHandle } from '../clock.js';

/** Awaited turns in a row while background series wait (then one background turn). */
export const AWAITED_RUN = 3;

/** A series' committer, as the pacer sees it. */
export interface PacedMember {
  /** Its turn: start the commit now (called at most once per `request`). */
  grant(): void;
}

export interface SyncPacer {
  /** Minimum ms between two commit starts on this device. */
  readonly intervalMs: number;
  /**
   * Queue `member` for a turn (no-op while it is queued, except that a background member asking
   * again as `awaited` moves to the awaited queue, keeping nothing of its place).
   */
  request(member: PacedMember, awaited?: boolean): void;
  /** Take `member` out of the queue (it committed on its own, failed, or closed). */
  cancel(member: PacedMember): void;
  /** A commit started without a turn (a flush, a full batch, an open): the next turn counts from now. */
  started(): void;
  /** Series waiting for a turn. */
  waiting(): number;
}

export interface SyncPacerOptions {
  /** Minimum ms between commit starts; 0 grants every request at once. */
  intervalMs: number;
  clock?: Clock;
}

export function createSyncPacer(options: SyncPacerOptions): SyncPacer {
  const { intervalMs } = options;
  const clock = options.clock ?? systemClock;
  /** FIFOs (a Set keeps insertion order); a member is in at most one of them, once. */
  const awaitedQueue = new Set<PacedMember>();
  const background = new Set<PacedMember>();
  /** Awaited turns granted in a row while background members waited. */
  let awaitedRun = 0;
  const size = (): number => awaitedQueue.size + background.size;
  let lastStartAt = Number.NEGATIVE_INFINITY;
  let timer: TimerHandle | undefined;
  let keepAlive: NodeJS.Timeout | undefined;
  let kicked = false;

  const disarm = (): void => {
    clock.clearTimeout(timer);
    timer = undefined;
    clearTimeout(keepAlive);
    keepAlive = undefined;
  };

  const grantNext = (): void => {
    const fromAwaited = awaitedQueue.size > 0 && (background.size === 0 || awaitedRun < AWAITED_RUN);
    const q = fromAwaited ? awaitedQueue : background;
    const next = q.values().next();
    if (next.done) return;
    q.delete(next.value);
    awaitedRun = fromAwaited && background.size > 0 ? awaitedRun + 1 : 0;
    lastStartAt = clock.monotonic();
    next.value.grant();
    pump();
  };

  const pump = (): void => {
    if (kicked || timer !== undefined || size() === 0) return;
    const wait = lastStartAt + intervalMs - clock.monotonic();
    if (wait <= 0) {
      kicked = true;
      queueMicrotask(() => {
        kicked = false;
        grantNext();
      });
      return;
    }
    timer = clock.setTimeout(() => {
      timer = undefined;
      clearTimeout(keepAlive);
      keepAlive = undefined;
      grantNext();
    }, wait);
    // The injected clock's timers are unref'd (a stopping process must not wait for them), but
    // appends waiting for their turn must not vanish because nothing else keeps Node alive (a CLI
    // run): a ref'd no-op timer outlives the wait. Shell plumbing; the turn runs on the clock.
    keepAlive = setTimeout(() => undefined, wait + 1000);
  };

  return {
    intervalMs,
    request(member, awaited = false) {
      if (awaitedQueue.has(member)) return;
      if (background.has(member)) {
        if (!awaited) return;
        background.delete(member);
      }
      (awaited ? awaitedQueue : background).add(member);
      pump();
    },
    cancel(member) {
      if (!awaitedQueue.delete(member) && !background.delete(member)) return;
      if (size() === 0) disarm();
    },
    started() {
      lastStartAt = clock.monotonic();
    },
    waiting: size,
  };
}

/**
 * The pacers of this process, one per storage device and interval (series on the real clock share
 * them; a series on an injected clock gets its own, see series.ts). Counted references: a pacer is
 * forgotten when its last series closes, so the table holds at most the devices × intervals open.
 */
const shared = new Map<string, { pacer: SyncPacer; refs: number }>();

/** The shared pacer for `device` (a `stat().dev`) and `intervalMs`; `release` when the series closes. */
export function acquireDevicePacer(device: number | bigint, intervalMs: number): { pacer: SyncPacer; release(): void } {
  const key = `${device}:${intervalMs}`;
  let slot = shared.get(key);
  if (slot === undefined) {
    slot = { pacer: createSyncPacer({ intervalMs }), refs: 0 };
    shared.set(key, slot);
  }
  slot.refs++;
  const held = slot;
  let released = false;
  return {
    pacer: held.pacer,
    release() {
      if (released) return;
      released = true;
      if (--held.refs === 0 && shared.get(key) === held) shared.delete(key);
    },
  };
}

/** Pacers held by open series in this process (for tests and stats). */
export function devicePacers(): number {
  return shared.size;
}

/**
 * Admission for scrypt: a password check that misses the in-memory digests (auth.ts) runs scrypt,
 * about 0.12 s of CPU and 32 MiB on the libuv thread pool, which the broker's own file I/O shares.
 * Anyone who can reach the port could otherwise buy that with one CONNECT carrying a fresh wrong
 * password, as often as they like. So:
 *
 * - at most `maxRunning` run at once, and at most `maxWaiting` wait; beyond that a CONNECT is
 *   refused as `busy` at once (a fleet reconnecting after a broker restart queues, and those
 *   refused retry: the host answers CONNACK 3, server unavailable, which nodes retry);
 * - a source address (the peer's IP) that failed `failuresPerSource` checks within
 *   `failureWindowMs` is refused as `throttled`, without running scrypt, until the window ends
 *   (fail2ban's habit). Nodes whose password was already verified are matched by their digest
 *   before any of this, so a throttled address does not lock out the nodes behind it that are
 *   known; a new one behind it waits for the window. The table of addresses is bounded; the
 *   oldest is forgotten first.
 */
import { type Clock, systemClock } from '../src/clock.js';

export interface ScryptGateOptions {
  /** scrypt checks running at once. Default 2 (of the 4 thread-pool threads). */
  maxRunning?: number;
  /** Checks waiting for a slot; more are refused `busy`. Default 16. */
  maxWaiting?: number;
  /** Failed checks from one address within the window before it is refused. Default 5. */
  failuresPerSource?: number;
  /** Default 60 000 ms. */
  failureWindowMs?: number;
  /** Addresses remembered. Default 4096. */
  maxSources?: number;
  clock?: Clock;
}

export type GateRefusal = 'busy' | 'throttled';

export interface ScryptGateStats {
  running: number;
  waiting: number;
  /** Addresses with failures in their window. */
  sources: number;
  /** scrypt checks run since start. */
  runs: number;
}

export interface ScryptGate {
  /**
   * Runs `check` (true: the password matched) once admitted, or refuses without running it.
   * `source` is the peer address; undefined ones share one bucket.
   */
  admit(source: string | undefined, check: () => Promise<boolean>): Promise<boolean | GateRefusal>;
  stats(): ScryptGateStats;
}

interface Failures {
  count: number;
  /** Monotonic ms of the first failure of the window. */
  since: number;
}

export function createScryptGate(options: ScryptGateOptions = {}): ScryptGate {
  const maxRunning = options.maxRunning ?? 2;
  const maxWaiting = options.maxWaiting ?? 16;
  const failuresPerSource = options.failuresPerSource ?? 5;
  const windowMs = options.failureWindowMs ?? 60_000;
  const maxSources = options.maxSources ?? 4096;
  const clock = options.clock ?? systemClock;
  const failures = new Map<string, Failures>();
  const waiting: Array<() => void> = [];
  let running = 0;
  let runs = 0;

  /** The address's failures in the current window (an expired window is forgotten). */
  const current = (key: string): Failures | undefined => {
    const f = failures.get(key);
    if (f !== undefined && clock.monotonic() - f.since >= windowMs) {
      failures.delete(key);
      return undefined;
    }
    return f;
  };

  const failed = (key: string): void => {
    const f = current(key);
    if (f !== undefined) {
      f.count++;
      return;
    }
    if (failures.size >= maxSources) failures.delete(failures.keys().next().value as string);
    failures.set(key, { count: 1, since: clock.monotonic() });
  };

  const release = (): void => {
    const next = waiting.shift();
    if (next !== undefined) next();
    else running--;
  };

  return {
    async admit(source, check) {
      const key = source ?? '?';
      if ((current(key)?.count ?? 0) >= failuresPerSource) return 'throttled';
      if (running < maxRunning) running++;
      else if (waiting.length < maxWaiting) await new Promise<void>((resolve) => waiting.push(resolve));
      else return 'busy';
      // A slot is held from here (a released one passes straight to the next waiter).
      try {
        // Failures may have piled up from this address while it waited.
        if ((current(key)?.count ?? 0) >= failuresPerSource) return 'throttled';
        runs++;
        const ok = await check();
        if (!ok) failed(key);
        return ok;
      } finally {
        release();
      }
    },
    stats: () => ({ running, waiting: waiting.length, sources: failures.size, runs }),
  };
}

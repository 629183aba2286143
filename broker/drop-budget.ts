/**
 * The drop budget of each connection: how many of its publishes on the dameso root the envelope
 * check dropped within the current window. Past the budget the host closes the connection and
 * cools its address down (admission.ts), so a client publishing refused payloads at full speed
 * stops costing the broker a receive and a scan per payload.
 */
import type { Clock } from '../src/clock.js';

export interface DropBudget {
  /** Counts one drop of `connection`; true when it takes the connection past its budget. */
  spend(connection: object): boolean;
}

interface DropWindow {
  startMs: number;
  drops: number;
}

/**
 * `maxDrops` drops per `windowMs` (a window opens at a connection's first drop after the last one
 * closed); `maxDrops` 0 turns the budget off. Keyed weakly by the connection: a closed connection's
 * count goes with it, so the table holds at most the open connections.
 */
export function createDropBudget(options: { maxDrops: number; windowMs: number; clock: Clock }): DropBudget {
  const windows = new WeakMap<object, DropWindow>();
  return {
    spend(connection) {
      if (options.maxDrops <= 0) return false;
      const now = options.clock.monotonic();
      let w = windows.get(connection);
      if (w === undefined || now - w.startMs >= options.windowMs) {
        w = { startMs: now, drops: 0 };
        windows.set(connection, w);
      }
      w.drops++;
      return w.drops > options.maxDrops;
    },
  };
}

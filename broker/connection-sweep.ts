/**
 * One periodic sweep over the open connections closes the two kinds a timer per packet would cost
 * too much to catch: a packet under way longer than the packet timeout (left half-sent, or trickled
 * to hold its buffered bytes), and a connected client silent longer than the idle limit (a client
 * that asked for keepalive 0 has no Aedes keepalive timer at all). Nothing runs per packet: the
 * sweep compares each scanner's count of completed packets with what it saw last time.
 */
import type { Clock, TimerHandle } from '../src/clock.js';
import { MAX_SWEEP_INTERVAL_MS } from './constants.js';

export type SweepClose = 'packet_timeout' | 'idle';

/** What the sweep reads of one connection. */
export interface Swept {
  /** Whole packets received so far. */
  readonly completed: number;
  /** Between the first and the last byte of a packet. */
  readonly midPacket: boolean;
  /** Past its CONNECT (the connect timeout covers the time before). */
  connected(): boolean;
  /** Closes the connection (its Will is published as for any abnormal disconnect). */
  close(why: SweepClose): void;
}

interface Watch {
  seen: number;
  activeAt: number;
  pendingSince: number | undefined;
}

export interface ConnectionSweep {
  add(connection: Swept): void;
  remove(connection: Swept): void;
  /** One pass (the interval calls it; tests may too). */
  sweep(): void;
  start(): void;
  stop(): void;
  readonly size: number;
}

export function createConnectionSweep(options: { clock: Clock; packetTimeoutMs: number; idleMs: number }) {
  const { clock, packetTimeoutMs, idleMs } = options;
  const watched = new Map<Swept, Watch>();
  let timer: TimerHandle | undefined;
  // A quarter of the shortest limit: a connection is closed at most a quarter late.
  const intervalMs = Math.max(10, Math.min(MAX_SWEEP_INTERVAL_MS, Math.floor(Math.min(packetTimeoutMs, idleMs) / 4)));

  const verdict = (c: Swept, w: Watch, now: number): SweepClose | undefined => {
    if (c.completed !== w.seen) {
      w.seen = c.completed;
      w.activeAt = now;
      w.pendingSince = c.midPacket ? now : undefined;
      return undefined;
    }
    if (!c.midPacket) w.pendingSince = undefined;
    else if (w.pendingSince === undefined) w.pendingSince = now;
    if (w.pendingSince !== undefined && now - w.pendingSince >= packetTimeoutMs) return 'packet_timeout';
    if (now - w.activeAt >= idleMs && c.connected()) return 'idle';
    return undefined;
  };

  const sweep = (): void => {
    const now = clock.monotonic();
    for (const [c, w] of watched) {
      const why = verdict(c, w, now);
      if (why === undefined) continue;
      watched.delete(c);
      c.close(why);
    }
  };

  const self: ConnectionSweep = {
    add(c) {
      const now = clock.monotonic();
      watched.set(c, { seen: c.completed, activeAt: now, pendingSince: c.midPacket ? now : undefined });
    },
    remove(c) {
      watched.delete(c);
    },
    sweep,
    start() {
      if (timer === undefined) timer = clock.setInterval(sweep, intervalMs);
    },
    stop() {
      clock.clearInterval(timer);
      timer = undefined;
      watched.clear();
    },
    get size() {
      return watched.size;
    },
  };
  return self;
}

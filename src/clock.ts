/**
 * Time, injected. Logic never calls `Date.now()` or `setTimeout` directly, so tests run on a
 * manual clock without sleeps (model: MQTT.js `get-timer.ts`).
 *
 * Two clocks, because a Pi has no RTC and its wall clock jumps when NTP syncs:
 * - `now()` is wall-clock ms since the epoch: stamped into entries and envelopes, never used to
 *   measure a duration;
 * - `monotonic()` is ms from an arbitrary origin that never goes backwards: deadlines, latencies,
 *   windows.
 */
export type TimerHandle = { readonly __timer: unique symbol } | object;

export interface Clock {
  /** Wall-clock ms since the epoch; may jump. */
  now(): number;
  /** Monotonic ms; only differences mean anything. */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
}

/** The real clock. Timers are unref'd so a pending timer never keeps a stopping process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    if (handle !== undefined) clearTimeout(handle as NodeJS.Timeout);
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref();
    return t;
  },
  clearInterval(handle) {
    if (handle !== undefined) clearInterval(handle as NodeJS.Timeout);
  },
};

interface ManualTimer {
  id: number;
  due: number;
  fn: () => void;
  every: number | undefined;
}

/** A clock that only moves when told to: `advance(ms)` fires due timers in order. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
  /** Set the wall clock (simulates an NTP jump); monotonic time does not move. */
  setWall(ms: number): void;
  pendingTimers(): number;
}

export function createManualClock(startWallMs = 1_700_000_000_000): ManualClock {
  let mono = 0;
  let wallOffset = startWallMs;
  let nextId = 1;
  const timers = new Map<number, ManualTimer>();

  const add = (fn: () => void, ms: number, every: number | undefined): TimerHandle => {
    const id = nextId++;
    timers.set(id, { id, due: mono + Math.max(0, ms), fn, every });
    return { id } as unknown as TimerHandle;
  };
  const remove = (handle: TimerHandle | undefined): void => {
    if (handle !== undefined) timers.delete((handle as unknown as { id: number }).id);
  };

  return {
    now: () => wallOffset + mono,
    monotonic: () => mono,
    setTimeout: (fn, ms) => add(fn, ms, undefined),
    clearTimeout: remove,
    setInterval: (fn, ms) => add(fn, ms, Math.max(1, ms)),
    clearInterval: remove,
    setWall(ms) {
      wallOffset = ms - mono;
    },
    pendingTimers: () => timers.size,
    advance(ms) {
      const target = mono + ms;
      for (;;) {
        let next: ManualTimer | undefined;
        for (const t of timers.values()) if (t.due <= target && (!next || t.due < next.due)) next = t;
        if (!next) break;
        mono = next.due;
        if (next.every !== undefined) next.due += next.every;
        else timers.delete(next.id);
        next.fn();
      }
      mono = target;
    },
  };
}

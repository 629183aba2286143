/**
 * A bound on the retained `have` records a broker keeps. Every holder announces every chunk it
 * holds with a retained record (DESIGN.md), and the broker keeps each one until it is withdrawn:
 * with Aedes' in-memory persistence that measured ~1 KB of broker RSS per record here (100 000
 * records: 78 → 180 MB). A node bounds its own chunk index, but a hub hears every holder of the
 * fleet, so nothing else bounds the broker's table.
 *
 * Past the bound a new record is still delivered to the live subscribers (the holders' trackers,
 * a `who_has` under way) but not stored: later askers do not find it, and a fetch of that chunk
 * falls back to asking every bt node (chunks/fetch.ts), so nothing is lost but a shortcut. A record
 * already kept is always updated, and a withdrawal frees its place.
 *
 * It counts the records stored through this broker since its store began: with an in-memory store
 * that is all of them; a shared store (a Redis cluster) also holds the other brokers' records,
 * which each broker does not see, so there the bound is per broker and Redis is sized for the rest.
 */
export interface HaveRetention {
  /** A retained record on `topic` is about to be stored: may it be? (always, when already kept) */
  admit(topic: string): boolean;
  /** The record on `topic` was withdrawn (an empty retained payload). */
  withdraw(topic: string): void;
  /** Records kept. */
  readonly size: number;
}

export function createHaveRetention(max: number): HaveRetention {
  const kept = new Set<string>();
  return {
    admit(topic) {
      if (kept.has(topic)) return true;
      if (kept.size >= max) return false;
      kept.add(topic);
      return true;
    },
    withdraw(topic) {
      kept.delete(topic);
    },
    get size() {
      return kept.size;
    },
  };
}

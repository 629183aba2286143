/**
 * A bound on the retained `have` records a broker keeps. Every holder announces every chunk it
 * holds with a retained record (docs/protocol.md §5.4), and the broker keeps each one until it is
 * withdrawn, in memory with Aedes' persistence (sizes: docs/benchmarks.md). A node bounds its own chunk index, but a hub hears every holder of the
 * fleet, so nothing else bounds the broker's table.
 *
 * Past the bound a new record is still delivered to the live subscribers (the holders' trackers,
 * a `who_has` under way) but not stored: later askers do not find it, and a fetch of that chunk
 * falls back to asking every bt node (chunks/fetch.ts), so nothing is lost but a shortcut. A record
 * already kept is always updated, and a withdrawal frees its place.
 *
 * Each node (the `{node}` of `R/have/{chunk}/{node}`) also has a share of the table
 * (`maxPerNode`): one node announcing without end fills its share, not the table, so the records
 * other nodes store afterwards are still kept.
 *
 * It counts the records stored through this broker since its store began: with an in-memory store
 * that is all of them; a shared store (a Redis cluster) also holds the other brokers' records,
 * which each broker does not see, so there the bound is per broker and Redis is sized for the rest.
 */

/** What a new retained record gets: stored, or not because the table or its node's share is full. */
export type HaveAdmission = 'kept' | 'table_full' | 'over_share';

export interface HaveRetention {
  /** A retained record of `node` on `topic` is about to be stored: may it be? (always, when already kept) */
  admit(topic: string, node: string): HaveAdmission;
  /** The record on `topic` was withdrawn (an empty retained payload). */
  withdraw(topic: string): void;
  /** Records kept. */
  readonly size: number;
  /** Nodes holding records (bounded by the table: a node without records is forgotten). */
  readonly nodes: number;
}

/** The default share of one node: a sixteenth of the table (at least one record). */
export function defaultHaveShare(max: number): number {
  return Math.max(1, Math.ceil(max / 16));
}

export function createHaveRetention(max: number, maxPerNode: number = defaultHaveShare(max)): HaveRetention {
  // topic -> the node whose record it is; node -> records kept.
  const kept = new Map<string, string>();
  const perNode = new Map<string, number>();
  return {
    admit(topic, node) {
      if (kept.has(topic)) return 'kept';
      if (kept.size >= max) return 'table_full';
      const held = perNode.get(node) ?? 0;
      if (held >= maxPerNode) return 'over_share';
      kept.set(topic, node);
      perNode.set(node, held + 1);
      return 'kept';
    },
    withdraw(topic) {
      const node = kept.get(topic);
      if (node === undefined) return;
      kept.delete(topic);
      const held = (perNode.get(node) ?? 1) - 1;
      if (held > 0) perNode.set(node, held);
      else perNode.delete(node);
    },
    get size() {
      return kept.size;
    },
    get nodes() {
      return perNode.size;
    },
  };
}

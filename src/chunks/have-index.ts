/**
 * The tracker's index of `have` records: chunk → node → record, fed by the one `R/have/+/+`
 * subscription of a tracking board. Bounded by `MAX_TRACKED_HAVES` records, the oldest chunk's
 * records going first (Map order).
 */
import type { HaveEnvelope } from '../protocol/index.js';
import { MAX_TRACKED_HAVES } from './constants.js';

export interface HaveIndex {
  /** Records (or, with `null`, withdraws) `node`'s record of `chunk`. Own and mismatched records are ignored. */
  record(chunk: string, node: string, env: HaveEnvelope | null): void;
  /** The records held for `chunk`, by node. */
  get(chunk: string): ReadonlyMap<string, HaveEnvelope> | undefined;
}

export function createHaveIndex(self: string): HaveIndex {
  const index = new Map<string, Map<string, HaveEnvelope>>();
  let tracked = 0;

  const withdraw = (chunk: string, node: string) => {
    const m = index.get(chunk);
    if (!m?.has(node)) return;
    m.delete(node);
    tracked -= 1;
    if (m.size === 0) index.delete(chunk);
  };

  const evictOldest = () => {
    for (const [oldest, om] of index) {
      if (tracked <= MAX_TRACKED_HAVES) break;
      index.delete(oldest);
      tracked -= om.size;
    }
  };

  const add = (chunk: string, node: string, env: HaveEnvelope) => {
    if (env.node !== node || node === self) return;
    let m = index.get(chunk);
    if (!m) {
      m = new Map();
      index.set(chunk, m);
    }
    if (!m.has(node)) tracked += 1;
    m.set(node, env);
    evictOldest();
  };

  return {
    record(chunk, node, env) {
      if (env === null) withdraw(chunk, node);
      else add(chunk, node, env);
    },
    get: (chunk) => index.get(chunk),
  };
}

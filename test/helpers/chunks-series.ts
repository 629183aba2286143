/**
 * Opens a series for the chunks tests. TEMPORARY in-memory stand-in until `createSeries` lands;
 * then this opens the real one in `dir`.
 */
import { createHash } from 'node:crypto';
import { encode } from 'cbor-x';
import type { Clock } from '../../src/clock.js';
import { systemClock } from '../../src/clock.js';
import type { Chunk, Entry, EntryInput, ReadQuery, Series, View } from '../../src/series/types.js';

export async function openSeries(
  _dir: string,
  views: readonly View<unknown>[],
  clock: Clock = systemClock,
): Promise<Series> {
  const entries: Entry[] = [];
  const states = new Map<string, { view: View<unknown>; state: unknown }>();
  for (const v of views) states.set(v.name, { view: v, state: v.initial() });
  const match = (e: Entry, q: ReadQuery) => {
    if (q.fromSeq !== undefined && e.seq < q.fromSeq) return false;
    if (q.toSeq !== undefined && e.seq > q.toSeq) return false;
    if (q.fromT !== undefined && e.t < q.fromT) return false;
    if (q.toT !== undefined && e.t > q.toT) return false;
    if (q.event !== undefined) {
      const ev = typeof q.event === 'string' ? [q.event] : q.event;
      if (!ev.includes(e.event)) return false;
    }
    return true;
  };
  const s: Series = {
    open: async () => ({
      segments: 0,
      entries: 0,
      firstSeq: 0,
      lastSeq: 0,
      bytes: 0,
      truncatedBytes: 0,
      corruptRecords: 0,
      foldedEntries: 0,
    }),
    async append(input: EntryInput) {
      const { t, ...rest } = input;
      const e = { ...rest, seq: entries.length + 1, t: t ?? clock.now() } as Entry;
      entries.push(e);
      for (const st of states.values()) st.state = st.view.apply(st.state, e);
      return e;
    },
    async *read(q: ReadQuery = {}) {
      for (const e of entries) if (match(e, q)) yield e;
    },
    async tail(n, q = {}) {
      return entries
        .filter((e) => match(e, q))
        .reverse()
        .slice(0, n);
    },
    view<S>(name: string): S {
      const st = states.get(name);
      if (!st) throw new Error(`no view ${name}`);
      return st.state as S;
    },
    snapshot: async () => entries[entries.length - 1]!,
    async chunk(fromSeq, toSeq, node): Promise<Chunk> {
      const events = entries.filter((e) => e.seq >= fromSeq && e.seq <= toSeq);
      const chunk = {
        v: 1 as const,
        node,
        first_seq: fromSeq,
        last_seq: toSeq,
        start_t: events[0]?.t ?? 0,
        end_t: events.at(-1)?.t ?? 0,
        events,
      };
      const bytes = encode(chunk);
      return { id: createHash('sha256').update(bytes).digest('hex'), bytes, chunk };
    },
    flush: async () => undefined,
    close: async () => undefined,
    stats: () => ({
      segments: 0,
      bytes: 0,
      budgetBytes: 0,
      firstSeq: 1,
      lastSeq: entries.length,
      durableSeq: entries.length,
      evictedSegments: 0,
    }),
    get lastSeq() {
      return entries.length;
    },
    get durableSeq() {
      return entries.length;
    },
  };
  return s;
}

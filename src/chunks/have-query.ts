/**
 * One live query of `R/have/{id}/+`, shared by the callers asking about the same chunk meanwhile.
 *
 * MQTT 3.1.1 has no end-of-retained marker and Aedes keeps streaming retained records after SUBACK
 * (a marker is overtaken: docs/design-notes.md "Intents and the wire"), so collection ends after a
 * quiet period without a new record, bounded by a maximum wait.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { HaveEnvelope } from '../protocol/index.js';
import type { Inbound, Transport } from '../transport/index.js';
import { MAX_HOLDERS_PER_CHUNK, MAX_LIVE_QUERIES } from './constants.js';

export interface HaveQuery {
  found: Map<string, HaveEnvelope>;
  /** Arrival order of `found` keys (a withdrawn one stays here and is skipped). */
  order: string[];
  ended: boolean;
  users: number;
  wake: Set<() => void>;
  finish(): void;
}

export interface HaveQueryDeps {
  self: string;
  transport: Pick<Transport, 'subscribe' | 'topics'>;
  clock: Clock;
  /** The live queries by chunk id; a query removes itself when it ends. */
  live: Map<string, HaveQuery>;
  quietMs: number;
  maxWaitMs: number;
}

/** The live query of `id`, opened (and subscribed) unless one is running. */
export function openHaveQuery(deps: HaveQueryDeps, id: string): HaveQuery {
  const existing = deps.live.get(id);
  if (existing) return existing;
  const { clock, live } = deps;
  let quiet: TimerHandle | undefined;
  let cap: TimerHandle | undefined;
  let off: (() => Promise<void>) | undefined;
  const q: HaveQuery = {
    found: new Map(),
    order: [],
    ended: false,
    users: 0,
    wake: new Set(),
    finish() {
      if (q.ended) return;
      q.ended = true;
      clock.clearTimeout(quiet);
      clock.clearTimeout(cap);
      if (live.get(id) === q) live.delete(id);
      off?.().catch(() => undefined);
      off = undefined;
      wakeReaders(q);
    },
  };
  const rearm = () => {
    clock.clearTimeout(quiet);
    quiet = clock.setTimeout(() => q.finish(), deps.quietMs);
  };
  live.set(id, q);
  if (live.size > MAX_LIVE_QUERIES) {
    // Bounded: past it the query ends empty (the fetch then asks every bt node).
    q.finish();
    return q;
  }
  deps.transport
    .subscribe(deps.transport.topics.haveFilter(id), (inbound) => {
      if (q.ended || !collect(q, id, deps.self, inbound)) return;
      rearm();
      wakeReaders(q);
    })
    .then(
      (unsubscribe) => {
        off = unsubscribe;
        if (q.ended) {
          off().catch(() => undefined);
          return;
        }
        // Retained copies may still be streaming after SUBACK (Aedes): wait for a quiet period.
        rearm();
        cap = clock.setTimeout(() => q.finish(), deps.maxWaitMs);
      },
      () => q.finish(),
    );
  return q;
}

/** Takes one record of `id` into the query; false when the message is not one. */
function collect(q: HaveQuery, id: string, self: string, inbound: Inbound): boolean {
  const m = inbound.message;
  if (m.type !== 'have' || m.topic.chunk !== id) return false;
  if (m.envelope === null) q.found.delete(m.topic.node);
  else if (m.envelope.node === m.topic.node && m.topic.node !== self && q.found.size < MAX_HOLDERS_PER_CHUNK) {
    if (!q.found.has(m.topic.node)) q.order.push(m.topic.node);
    q.found.set(m.topic.node, m.envelope);
  }
  return true;
}

function wakeReaders(q: HaveQuery): void {
  const fns = [...q.wake];
  q.wake.clear();
  for (const fn of fns) fn();
}

/**
 * The query's records as they arrive, until it ends. The last reader to leave ends the query early
 * instead of holding a subscription for the quiet period.
 */
export async function* readHaveQuery(q: HaveQuery): AsyncGenerator<HaveEnvelope> {
  q.users += 1;
  try {
    let i = 0;
    for (;;) {
      while (i < q.order.length) {
        const env = q.found.get(q.order[i++]!);
        if (env) yield env;
      }
      if (q.ended) return;
      await new Promise<void>((resolve) => q.wake.add(resolve));
    }
  } finally {
    q.users -= 1;
    if (q.users === 0) q.finish();
  }
}

/**
 * `have` records (docs/protocol.md §5.4): `R/have/{chunk}/{node}`, QoS 1, retained,
 * `{v:1, node, chunk, size, t}`; an empty retained payload withdraws it. The broker keeps them, so
 * it plays the tracker: `whoHas(id)` subscribes to `R/have/{id}/+` and reads the retained records.
 *
 * MQTT 3.1.1 has no end-of-retained marker and Aedes keeps streaming retained records after SUBACK
 * (a marker is overtaken: docs/design-notes.md "Intents and the wire"), so collection ends after a quiet period
 * without a new record, bounded by a maximum wait.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Roster } from '../presence/types.js';
import { HAVE_QOS } from '../protocol/constants.js';
import type { HaveEnvelope } from '../protocol/types.js';
import type { Transport } from '../transport/index.js';
import {
  DEFAULT_HAVE_MAX_WAIT_MS,
  DEFAULT_HAVE_QUIET_MS,
  MAX_HOLDERS_PER_CHUNK,
  MAX_LIVE_QUERIES,
  MAX_TRACKED_HAVES,
} from './constants.js';
import { byPreference } from './rendezvous.js';

export interface Holder {
  node: string;
  size: number;
  /** The holder's wall clock when it announced (its clock, not ours: informative only). */
  t: number;
  /** Online in the roster now. */
  online: boolean;
}

export interface HaveOptions {
  /** End collection after this long without a new record, ms. Default `DEFAULT_HAVE_QUIET_MS` (60). */
  quietMs?: number;
  /** Never wait longer, ms. Default `DEFAULT_HAVE_MAX_WAIT_MS` (1000). */
  maxWaitMs?: number;
  /**
   * Track every `have` record (one `R/have/+/+` subscription, at most `MAX_TRACKED_HAVES` records)
   * so discovery of a tracked chunk costs no round trip. Default false (short-lived nodes).
   */
  track?: boolean;
}

export interface HaveDeps {
  self: string;
  transport: Pick<Transport, 'publish' | 'subscribe' | 'topics'>;
  roster: Pick<Roster, 'get'>;
  clock: Clock;
}

export interface HaveBoard {
  /** Subscribes the tracker when `track` is on. */
  start(): Promise<void>;
  stop(): Promise<void>;
  announce(id: string, size: number): Promise<void>;
  withdraw(id: string): Promise<void>;
  /**
   * Holders as their retained records arrive (deduplicated, self excluded), ending after the quiet
   * period: a fetch can ask the first holder while the others are still arriving.
   */
  holders(id: string): AsyncIterable<Holder>;
  /**
   * The tracked holders, online first, when the first of them is online: what `holders` yields at
   * once without a round trip, given synchronously (a fetch of a known chunk needs no generator).
   * Undefined otherwise.
   */
  trackedHolders(id: string): Holder[] | undefined;
  /** Every announced holder, online first (then by rendezvous rank), at most `MAX_HOLDERS_PER_CHUNK`. */
  whoHas(id: string): Promise<Holder[]>;
}

/** One live query of `R/have/{id}/+`, shared by the callers asking about the same chunk meanwhile. */
interface Collector {
  found: Map<string, HaveEnvelope>;
  /** Arrival order of `found` keys (a withdrawn one stays here and is skipped). */
  order: string[];
  ended: boolean;
  users: number;
  wake: Set<() => void>;
  finish(): void;
}

export function createHaveBoard(deps: HaveDeps, o: HaveOptions = {}): HaveBoard {
  const quietMs = o.quietMs ?? DEFAULT_HAVE_QUIET_MS;
  const maxWaitMs = o.maxWaitMs ?? DEFAULT_HAVE_MAX_WAIT_MS;
  const { transport, clock } = deps;
  // One subscription per chunk at a time: a second subscribe to a live filter gets no retained copies.
  const live = new Map<string, Collector>();
  // The tracker: chunk → node → record, oldest chunk first (Map order); `tracked` counts records.
  const index = new Map<string, Map<string, HaveEnvelope>>();
  let tracked = 0;
  let untrack: (() => Promise<void>) | undefined;
  const track = (chunk: string, node: string, env: HaveEnvelope | null) => {
    let m = index.get(chunk);
    const had = m?.has(node) === true;
    if (env === null) {
      if (m && had) {
        m.delete(node);
        tracked -= 1;
        if (m.size === 0) index.delete(chunk);
      }
      return;
    }
    if (env.node !== node || node === deps.self) return;
    if (!m) {
      m = new Map();
      index.set(chunk, m);
    }
    m.set(node, env);
    if (!had) tracked += 1;
    for (const [oldest, om] of index) {
      if (tracked <= MAX_TRACKED_HAVES) break;
      index.delete(oldest);
      tracked -= om.size;
    }
  };

  const holderOf = (h: HaveEnvelope): Holder => ({
    node: h.node,
    size: h.size,
    t: h.t,
    online: deps.roster.get(h.node)?.online === true,
  });

  const open = (id: string): Collector => {
    const existing = live.get(id);
    if (existing) return existing;
    let quiet: TimerHandle | undefined;
    let cap: TimerHandle | undefined;
    let off: (() => Promise<void>) | undefined;
    const c: Collector = {
      found: new Map(),
      order: [],
      ended: false,
      users: 0,
      wake: new Set(),
      finish() {
        if (c.ended) return;
        c.ended = true;
        clock.clearTimeout(quiet);
        clock.clearTimeout(cap);
        if (live.get(id) === c) live.delete(id);
        off?.().catch(() => undefined);
        off = undefined;
        notify();
      },
    };
    const notify = () => {
      const fns = [...c.wake];
      c.wake.clear();
      for (const fn of fns) fn();
    };
    const rearm = () => {
      clock.clearTimeout(quiet);
      quiet = clock.setTimeout(() => c.finish(), quietMs);
    };
    live.set(id, c);
    if (live.size > MAX_LIVE_QUERIES) {
      // Bounded: past it the query ends empty (the fetch then asks every bt node).
      c.finish();
      return c;
    }
    transport
      .subscribe(transport.topics.haveFilter(id), (inbound) => {
        const m = inbound.message;
        if (c.ended || m.type !== 'have' || m.topic.chunk !== id) return;
        if (m.envelope === null) c.found.delete(m.topic.node);
        else if (
          m.envelope.node === m.topic.node &&
          m.topic.node !== deps.self &&
          c.found.size < MAX_HOLDERS_PER_CHUNK
        ) {
          if (!c.found.has(m.topic.node)) c.order.push(m.topic.node);
          c.found.set(m.topic.node, m.envelope);
        }
        rearm();
        notify();
      })
      .then(
        (unsubscribe) => {
          off = unsubscribe;
          if (c.ended) {
            off().catch(() => undefined);
            return;
          }
          // Retained copies may still be streaming after SUBACK (Aedes): wait for a quiet period.
          rearm();
          cap = clock.setTimeout(() => c.finish(), maxWaitMs);
        },
        () => c.finish(),
      );
    return c;
  };

  /** Tracked: online holders first, no round trip. A stale entry costs one failed ask. */
  function trackedHolders(id: string): Holder[] | undefined {
    const known = index.get(id);
    if (known === undefined || known.size === 0) return undefined;
    const hs = byPreference(id, [...known.values()].map(holderOf));
    return hs[0]?.online ? hs : undefined;
  }

  async function* holders(id: string): AsyncGenerator<Holder> {
    const tracked = trackedHolders(id);
    if (tracked !== undefined) {
      yield* tracked;
      return;
    }
    const c = open(id);
    c.users += 1;
    try {
      let i = 0;
      for (;;) {
        while (i < c.order.length) {
          const env = c.found.get(c.order[i++]!);
          if (env) yield holderOf(env);
        }
        if (c.ended) return;
        await new Promise<void>((resolve) => c.wake.add(resolve));
      }
    } finally {
      c.users -= 1;
      // Nobody is listening any more: end early instead of holding a subscription for the quiet period.
      if (c.users === 0) c.finish();
    }
  }

  return {
    async start() {
      if (!o.track || untrack) return;
      untrack = await transport.subscribe(transport.topics.haveFilter(), (inbound) => {
        const m = inbound.message;
        if (m.type === 'have') track(m.topic.chunk, m.topic.node, m.envelope);
      });
    },
    async stop() {
      const off = untrack;
      untrack = undefined;
      for (const c of [...live.values()]) c.finish();
      await off?.();
    },
    announce(id, size) {
      const env: HaveEnvelope = { v: 1, node: deps.self, chunk: id, size, t: clock.now() };
      return transport.publish(transport.topics.have(id, deps.self), env, { qos: HAVE_QOS, retain: true });
    },
    withdraw(id) {
      // An empty retained payload withdraws the record (MQTT-3.3.1-10).
      return transport.publish(transport.topics.have(id, deps.self), null, { qos: HAVE_QOS, retain: true });
    },
    holders,
    trackedHolders,
    async whoHas(id) {
      const all: Holder[] = [];
      for await (const h of holders(id)) all.push(h);
      return byPreference(id, all);
    },
  };
}

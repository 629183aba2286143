/**
 * `have` records (docs/protocol.md §5.4): `R/have/{chunk}/{node}`, QoS 1, retained,
 * `{v:1, node, chunk, size, t}`; an empty retained payload withdraws it. The broker keeps them, so
 * it plays the tracker: `whoHas(id)` subscribes to `R/have/{id}/+` and reads the retained records
 * (have-query.ts); a tracking board keeps every record it sees (have-index.ts).
 */
import type { Clock } from '../clock.js';
import type { Roster } from '../presence/index.js';
import { HAVE_QOS, type HaveEnvelope } from '../protocol/index.js';
import type { Transport } from '../transport/index.js';
import { DEFAULT_HAVE_MAX_WAIT_MS, DEFAULT_HAVE_QUIET_MS } from './constants.js';
import { createHaveIndex } from './have-index.js';
import { type HaveQueryDeps, openHaveQuery, readHaveQuery } from './have-query.js';
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

export function createHaveBoard(deps: HaveDeps, options: HaveOptions = {}): HaveBoard {
  const { transport, clock } = deps;
  // One subscription per chunk at a time: a second subscribe to a live filter gets no retained copies.
  const queries: HaveQueryDeps = {
    self: deps.self,
    transport,
    clock,
    live: new Map(),
    quietMs: options.quietMs ?? DEFAULT_HAVE_QUIET_MS,
    maxWaitMs: options.maxWaitMs ?? DEFAULT_HAVE_MAX_WAIT_MS,
  };
  const index = createHaveIndex(deps.self);
  let untrack: (() => Promise<void>) | undefined;

  const holderOf = (h: HaveEnvelope): Holder => ({
    node: h.node,
    size: h.size,
    t: h.t,
    online: deps.roster.get(h.node)?.online === true,
  });

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
    for await (const env of readHaveQuery(openHaveQuery(queries, id))) yield holderOf(env);
  }

  return {
    async start() {
      if (!options.track || untrack) return;
      untrack = await transport.subscribe(transport.topics.haveFilter(), (inbound) => {
        const m = inbound.message;
        if (m.type === 'have') index.record(m.topic.chunk, m.topic.node, m.envelope);
      });
    },
    async stop() {
      const off = untrack;
      untrack = undefined;
      for (const q of [...queries.live.values()]) q.finish();
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

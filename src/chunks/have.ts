/**
 * `have` records (DESIGN.md wire protocol): `R/have/{chunk}/{node}`, QoS 1, retained,
 * `{v:1, node, chunk, size, t}`; an empty retained payload withdraws it. The broker keeps them, so
 * it plays the tracker: `whoHas(id)` subscribes to `R/have/{id}/+` and reads the retained records.
 *
 * MQTT 3.1.1 has no end-of-retained marker and Aedes keeps streaming retained records after SUBACK
 * (DESIGN.md: a marker overtook 383–499 of 500 records), so collection ends after a quiet period
 * without a new record, bounded by a maximum wait.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Roster } from '../presence/types.js';
import type { HaveEnvelope } from '../protocol/types.js';
import type { Transport } from '../transport/index.js';
import { DEFAULT_HAVE_MAX_WAIT_MS, DEFAULT_HAVE_QUIET_MS, MAX_HOLDERS_PER_CHUNK } from './constants.js';

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
}

export interface HaveDeps {
  self: string;
  transport: Pick<Transport, 'publish' | 'subscribe' | 'topics'>;
  roster: Pick<Roster, 'get'>;
  clock: Clock;
}

export interface HaveBoard {
  announce(id: string, size: number): Promise<void>;
  withdraw(id: string): Promise<void>;
  /** Announced holders, online first (then by node id), at most `MAX_HOLDERS_PER_CHUNK`. */
  whoHas(id: string): Promise<Holder[]>;
}

export function createHaveBoard(deps: HaveDeps, o: HaveOptions = {}): HaveBoard {
  const quietMs = o.quietMs ?? DEFAULT_HAVE_QUIET_MS;
  const maxWaitMs = o.maxWaitMs ?? DEFAULT_HAVE_MAX_WAIT_MS;
  const { transport, clock } = deps;
  // One query per chunk at a time: a second subscribe to a live filter gets no retained copies.
  const inFlight = new Map<string, Promise<Holder[]>>();

  const collect = async (id: string): Promise<Holder[]> => {
    const found = new Map<string, HaveEnvelope>();
    let quiet: TimerHandle | undefined;
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const rearm = () => {
      clock.clearTimeout(quiet);
      quiet = clock.setTimeout(finish, quietMs);
    };
    const off = await transport.subscribe(transport.topics.haveFilter(id), (inbound) => {
      const m = inbound.message;
      if (m.type !== 'have' || m.topic.chunk !== id) return;
      if (m.envelope === null) found.delete(m.topic.node);
      else if (found.size < MAX_HOLDERS_PER_CHUNK && m.envelope.node === m.topic.node)
        found.set(m.topic.node, m.envelope);
      rearm();
    });
    rearm();
    const cap = clock.setTimeout(finish, maxWaitMs);
    try {
      await done;
    } finally {
      clock.clearTimeout(quiet);
      clock.clearTimeout(cap);
      await off();
    }
    return [...found.values()]
      .filter((h) => h.node !== deps.self)
      .map((h) => ({ node: h.node, size: h.size, t: h.t, online: deps.roster.get(h.node)?.online === true }))
      .sort((a, b) => Number(b.online) - Number(a.online) || (a.node < b.node ? -1 : 1));
  };

  return {
    announce(id, size) {
      const env: HaveEnvelope = { v: 1, node: deps.self, chunk: id, size, t: clock.now() };
      return transport.publish(transport.topics.have(id, deps.self), env, { qos: 1, retain: true });
    },
    withdraw(id) {
      // An empty retained payload withdraws the record (MQTT-3.3.1-10).
      return transport.publish(transport.topics.have(id, deps.self), null, { qos: 1, retain: true });
    },
    whoHas(id) {
      const running = inFlight.get(id);
      if (running) return running;
      const p = collect(id).finally(() => inFlight.delete(id));
      inFlight.set(id, p);
      return p;
    },
  };
}

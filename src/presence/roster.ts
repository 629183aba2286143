/**
 * The live roster: who is online, with which roles and session, from the retained presence
 * records (`R/presence/+`). Stale records are ignored (Sparkplug bdSeq rule: an offline record
 * whose session is older than the one known is a late Will of a dead connection), sessions
 * compared within one incarnation only (protocol/incarnation.ts: a replaced board's new epoch
 * replaces the old one; a late offline record of another epoch does not clobber it). Each accepted
 * change is written to the series as `peer_added` / `peer_removed` and applied with the same rule
 * as the `roster` view, so the roster is derived.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';
import {
  createSyncRecord,
  epochOf,
  isStaleSession,
  NO_EPOCH,
  PRESENCE_QOS,
  type PresenceEnvelope,
  SYNC_QOS,
} from '../protocol/index.js';
import { type EntryInput, recorder, type Series } from '../series/index.js';
import type { Inbound, Transport } from '../transport/index.js';
import { MAX_PEERS, PEER_ADDED, PEER_REMOVED, ROSTER_MAX_WAIT_MS, ROSTER_QUIET_MS, ROSTER_VIEW } from './constants.js';
import type { Peer, PeerChange, Roster, RosterStats } from './types.js';
import type { RosterState } from './view.js';

export interface RosterDeps {
  self: string;
  transport: Pick<
    Transport,
    'subscribe' | 'publish' | 'topics' | 'session' | 'epoch' | 'connected' | 'republishPresence'
  >;
  series: Pick<Series, 'record' | 'view'>;
  clock: Clock;
  log: Logger;
  /**
   * Use the roster barrier (protocol/roster-barrier.ts): a retained sync record subscribed LAST in
   * the same SUBSCRIBE as `R/presence/+`; its arrival means every retained presence record has
   * arrived. Default true. When false, a quiet window after SUBACK is used instead.
   */
  barrier?: boolean;
  /** Quiet window that ends the retained stream when the barrier is off, ms. Default `ROSTER_QUIET_MS`. */
  quietMs?: number;
  /** Bound on waiting for the retained roster, ms. Default `ROSTER_MAX_WAIT_MS`. */
  maxWaitMs?: number;
}

export class LiveRoster implements Roster {
  private readonly peers = new Map<string, Peer>();
  private readonly listeners = new Set<(peer: Peer, change: PeerChange) => void>();
  /** Nodes a record confirmed in this run (those the view remembered but nobody confirmed are absent). */
  private readonly confirmed = new Set<string>();
  private readonly counters = { records: 0, stale: 0, overflow: 0 };
  private retainedSinceTick = 0;
  private ticker: TimerHandle | undefined;
  private ready_ = false;
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;
  private unsubscribe: (() => Promise<void>) | undefined;
  private fallback: TimerHandle | undefined;
  private syncTopic: string | undefined;
  private nonce: string | undefined;
  /** Peer entries are recorded, not awaited; each refusal is logged (peer changes are rare). */
  private readonly record: (entry: EntryInput) => void;

  constructor(private readonly deps: RosterDeps) {
    this.record = recorder(deps.series, (err) => deps.log.error({ err }, 'presence: could not write a peer entry'));
    this.readyPromise = new Promise((resolve) => {
      this.resolveReady = resolve;
    });
  }

  get isReady(): boolean {
    return this.ready_;
  }

  async start(): Promise<void> {
    const { deps } = this;
    const { transport, clock } = deps;
    // Start from what the series remembers (sessions survive restarts: the stale rule needs them).
    const state = deps.series.view<RosterState>(ROSTER_VIEW);
    for (const [node, p] of Object.entries(state)) this.peers.set(node, { node, ...p, epoch: p.epoch ?? NO_EPOCH });
    const maxWaitMs = deps.maxWaitMs ?? ROSTER_MAX_WAIT_MS;
    const startedAt = clock.monotonic();
    this.fallback = clock.setTimeout(() => {
      deps.log.warn(
        { waitedMs: clock.monotonic() - startedAt },
        'presence: no end of the retained roster; going ahead',
      );
      this.becomeReady();
    }, maxWaitMs);
    const handler = (m: Inbound) => this.onRecord(m);
    if (deps.barrier !== false) {
      // MQTT 3.1.1 has no end-of-retained marker and Aedes streams retained records after SUBACK
      // (docs/protocol.md §6). The barrier: our own retained sync record, subscribed after R/presence/+ in
      // ONE SUBSCRIBE, arrives after every retained presence record (brokers send them filter by filter).
      this.syncTopic = transport.topics.sync(deps.self);
      const record = createSyncRecord(deps.self, clock.now());
      this.nonce = record.nonce;
      try {
        await transport.publish(this.syncTopic, record, { qos: SYNC_QOS, retain: true });
      } catch (err) {
        // Connection dropped meanwhile: the record is republished at reconnect (owned retained),
        // and the fallback bound still ends the wait.
        deps.log.warn({ err }, 'presence: could not publish the roster barrier record');
      }
      this.unsubscribe = await transport.subscribe([transport.topics.presenceFilter, this.syncTopic], handler, {
        qos: PRESENCE_QOS,
      });
      return;
    }
    this.unsubscribe = await transport.subscribe(transport.topics.presenceFilter, handler, { qos: PRESENCE_QOS });
    // Quiet window: ready once a whole window passed without a retained record. Two ticks are always
    // separated by at least one I/O poll, so records buffered during a stall are counted first.
    this.retainedSinceTick = 0;
    this.ticker = clock.setInterval(() => {
      const quiet = this.retainedSinceTick === 0;
      this.retainedSinceTick = 0;
      if (quiet) this.becomeReady();
    }, deps.quietMs ?? ROSTER_QUIET_MS);
  }

  async stop(): Promise<void> {
    this.deps.clock.clearInterval(this.ticker);
    this.deps.clock.clearTimeout(this.fallback);
    this.listeners.clear();
    await this.unsubscribe?.().catch(() => undefined);
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  get(node: string): Peer | undefined {
    return this.peers.get(node);
  }

  online(): Peer[] {
    const out: Peer[] = [];
    for (const p of this.peers.values()) if (p.online) out.push(p);
    return out;
  }

  onChange(fn: (peer: Peer, change: PeerChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  stats(): RosterStats {
    let online = 0;
    for (const p of this.peers.values()) if (p.online) online++;
    return { peers: this.peers.size, online, ...this.counters };
  }

  private becomeReady(): void {
    this.deps.clock.clearInterval(this.ticker);
    this.deps.clock.clearTimeout(this.fallback);
    this.ticker = undefined;
    if (this.ready_) return;
    // Nodes the series remembered as online that no retained record confirmed are gone.
    for (const p of [...this.peers.values()]) {
      if (p.online && !this.confirmed.has(p.node)) this.change(p.node, p, false, p.roles, 'absent');
    }
    this.ready_ = true;
    this.resolveReady();
  }

  private onRecord(m: Inbound): void {
    if (m.message.type === 'sync') {
      // Only the STORED copy proves the retained roster came first: a broker may acknowledge our
      // QoS 1 publish before storing and fanning it out (Aedes 1.2 does), and over Redis the live
      // copy then reaches us after our SUBSCRIBE but ahead of the stored presence records.
      if (!m.retained || m.message.envelope?.nonce !== this.nonce || this.syncTopic === undefined) return;
      this.becomeReady();
      // Step (4): clear our sync record (an empty retained payload).
      this.deps.transport.publish(this.syncTopic, null, { qos: SYNC_QOS, retain: true }).catch(() => undefined);
      return;
    }
    if (m.message.type !== 'presence') return;
    if (m.retained) this.retainedSinceTick++;
    this.counters.records++;
    const node = m.message.topic.node;
    const env: PresenceEnvelope | null = m.message.envelope;
    this.confirmed.add(node);
    if (node === this.deps.self) {
      this.onOwnRecord(env);
      return;
    }
    const known = this.peers.get(node);
    if (env === null) {
      if (known?.online) this.change(node, known, false, known.roles, 'cleared');
      return;
    }
    const at = { session: env.session, epoch: epochOf(env) };
    const sameEpoch = known !== undefined && known.epoch === at.epoch;
    if (env.state === 'online') {
      // An older online record of the same incarnation while a newer session is online is stale
      // (out of order); another epoch is a new incarnation and replaces it.
      if (known?.online && sameEpoch && at.session < known.session) {
        this.counters.stale++;
        return;
      }
      if (known?.online && sameEpoch && known.session === at.session && sameRoles(known.roles, env.roles)) return;
      this.change(node, at, true, env.roles, undefined);
      return;
    }
    // Sparkplug bdSeq rule: an offline record of an older session is a late Will — ignore it. A
    // live offline record of another incarnation while one is online is the late Will of the old
    // board; the broker's stored record (retained, at subscription) is taken as it is.
    if (known !== undefined && (sameEpoch ? at.session < known.session : known.online && !m.retained)) {
      this.counters.stale++;
      return;
    }
    if (known === undefined || known.online || !sameEpoch || known.session !== at.session) {
      this.change(node, at, false, env.roles, 'offline');
    }
  }

  /** Our own record: if a stale Will overwrote it while we are connected, publish online again. */
  private onOwnRecord(env: PresenceEnvelope | null): void {
    const t = this.deps.transport;
    if (!t.connected || t.session === 0) return;
    if (env === null || env.state === 'offline' || isStaleSession(t, env)) {
      this.counters.stale++;
      t.republishPresence();
    }
  }

  private change(
    node: string,
    at: { session: number; epoch: number },
    online: boolean,
    roles: readonly string[],
    why: string | undefined,
  ): void {
    const prev = this.peers.get(node);
    if (prev === undefined && this.peers.size >= MAX_PEERS) {
      this.counters.overflow++;
      return;
    }
    const { session, epoch } = at;
    const peer: Peer = { node, session, epoch, online, roles: [...roles] };
    this.peers.set(node, peer);
    const entry: EntryInput = online
      ? { event: PEER_ADDED, node, session, epoch, roles: [...roles] }
      : { event: PEER_REMOVED, node, session, epoch, ...(why !== undefined ? { why } : {}) };
    this.record(entry);
    const kind: PeerChange = online ? (prev?.online ? 'session' : 'added') : 'removed';
    if (!online && !prev?.online) return; // already offline: recorded, nobody to tell
    for (const fn of [...this.listeners]) fn(peer, kind);
  }
}

function sameRoles(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((r, i) => r === b[i]);
}

/**
 * One roster for every node a fleet worker hosts. A node's own roster holds a record of every peer
 * and receives every retained presence record when it joins: across a fleet both grow with the
 * square of its size. In a worker, the nodes read one live roster instead (kept by the worker's
 * own connection, see worker.ts), so a join costs one delivery per worker, not one per node.
 *
 * What each node keeps for itself: its connection, session and Will, and the watch over its own
 * presence record (a stale Will that overwrote it is answered by publishing online again), on one
 * subscription to its own topic. What it no longer keeps: `peer_added` / `peer_removed` entries in
 * its series (the worker's series records them once).
 */
import type { Peer, PeerChange, RosterDeps, RosterStats, StartableRoster } from '../presence/index.js';
import { isStaleSession, PRESENCE_QOS, type PresenceEnvelope } from '../protocol/index.js';
import type { Inbound } from '../transport/index.js';

/** The shared roster, as one node reads it; `start()` watches the node's own presence record. */
class SharedRosterView implements StartableRoster {
  private readonly unsubscribers = new Set<() => void>();
  private unsubscribeOwn: (() => Promise<void>) | undefined;
  private readonly counters = { records: 0, stale: 0 };

  constructor(
    private readonly shared: StartableRoster,
    private readonly deps: RosterDeps,
  ) {}

  get isReady(): boolean {
    return this.shared.isReady;
  }

  async start(): Promise<void> {
    const { transport } = this.deps;
    this.unsubscribeOwn = await transport.subscribe(
      transport.topics.presence(this.deps.self),
      (m: Inbound) => this.onOwnRecord(m),
      { qos: PRESENCE_QOS },
    );
  }

  async stop(): Promise<void> {
    for (const off of this.unsubscribers) off();
    this.unsubscribers.clear();
    await this.unsubscribeOwn?.().catch(() => undefined);
  }

  ready(): Promise<void> {
    return this.shared.ready();
  }

  get(node: string): Peer | undefined {
    return this.shared.get(node);
  }

  online(): Peer[] {
    return this.shared.online();
  }

  onChange(fn: (peer: Peer, change: PeerChange) => void): () => void {
    const off = this.shared.onChange(fn);
    const once = (): void => {
      off();
      this.unsubscribers.delete(once);
    };
    this.unsubscribers.add(once);
    return once;
  }

  stats(): RosterStats {
    const s = this.shared.stats();
    return { ...s, records: this.counters.records, stale: this.counters.stale };
  }

  /** Our own record: if a stale Will overwrote it while we are connected, publish online again. */
  private onOwnRecord(m: Inbound): void {
    if (m.message.type !== 'presence') return;
    this.counters.records++;
    const t = this.deps.transport;
    if (!t.connected || t.session === 0) return;
    const env: PresenceEnvelope | null = m.message.envelope;
    if (env === null || env.state === 'offline' || isStaleSession(t, env)) {
      this.counters.stale++;
      t.republishPresence();
    }
  }
}

/** `NodeOptions.roster` for the nodes of one worker: each reads `shared`, started and kept by the worker. */
export function sharedRoster(shared: StartableRoster): (deps: RosterDeps) => StartableRoster {
  return (deps) => new SharedRosterView(shared, deps);
}

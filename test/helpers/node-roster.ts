/**
 * A roster held in memory for unit tests of the intent core (the live roster is tested against a
 * real broker in test/presence). Same contract as `Roster`.
 */
import type { Peer, PeerChange, Roster, RosterStats } from '../../src/presence/types.js';

export class TableRoster implements Roster {
  readonly peers = new Map<string, Peer>();
  private readonly fns = new Set<(p: Peer, c: PeerChange) => void>();
  readonly isReady = true;

  set(node: string, session: number, online: boolean, roles: string[] = ['bt'], epoch = 0): void {
    const prev = this.peers.get(node);
    const peer = { node, session, epoch, online, roles };
    this.peers.set(node, peer);
    const change: PeerChange = online ? (prev?.online ? 'session' : 'added') : 'removed';
    if (online || prev?.online) for (const f of this.fns) f(peer, change);
  }
  get(node: string): Peer | undefined {
    return this.peers.get(node);
  }
  online(): Peer[] {
    return [...this.peers.values()].filter((p) => p.online);
  }
  onChange(fn: (p: Peer, c: PeerChange) => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }
  ready(): Promise<void> {
    return Promise.resolve();
  }
  stats(): RosterStats {
    return { peers: this.peers.size, online: this.online().length, records: 0, stale: 0, overflow: 0 };
  }
}

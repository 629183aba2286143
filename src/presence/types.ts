/** What the rest of the node reads from the roster (the roster from retained presence: docs/protocol.md §5.1). */

export interface Peer {
  node: string;
  /** Session of the newest presence record seen for it. */
  session: number;
  /** Incarnation of that record (protocol/incarnation.ts; 0 for a protocol v1 peer). */
  epoch: number;
  online: boolean;
  roles: readonly string[];
}

/** Why a peer changed. */
export type PeerChange = 'added' | 'removed' | 'session';

export interface Roster {
  /** The newest record of one node (online or not). */
  get(node: string): Peer | undefined;
  /** Every online node (self included when it announces). */
  online(): Peer[];
  /** Called after each accepted change, synchronously; returns an unsubscribe function. */
  onChange(fn: (peer: Peer, change: PeerChange) => void): () => void;
  /** Resolves once the retained roster has been received (quiet period after SUBACK, bounded). */
  ready(): Promise<void>;
  readonly isReady: boolean;
  /** Counters: stale records ignored, nodes dropped over the bound. */
  stats(): RosterStats;
}

export interface RosterStats {
  peers: number;
  online: number;
  records: number;
  stale: number;
  overflow: number;
}

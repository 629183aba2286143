/**
 * The roster as a derived view: folded from `peer_added` / `peer_removed` entries, so the roster a
 * node held survives restarts and ring eviction (snapshots) and can be replayed. The live roster
 * applies the same function to the entries it writes.
 */
import type { Entry, View } from '../series/types.js';
import { MAX_PEERS, PEER_ADDED, PEER_REMOVED, ROSTER_VIEW } from './constants.js';

export interface PeerState {
  session: number;
  online: boolean;
  roles: string[];
}

export type RosterState = Record<string, PeerState>;

export function applyPeerEntry(state: RosterState, entry: { event: string; [k: string]: unknown }): RosterState {
  if (entry.event !== PEER_ADDED && entry.event !== PEER_REMOVED) return state;
  const node = entry.node;
  const session = entry.session;
  if (typeof node !== 'string' || typeof session !== 'number') return state;
  const prev = state[node];
  if (prev === undefined && Object.keys(state).length >= MAX_PEERS) return state;
  const roles = Array.isArray(entry.roles) ? entry.roles.filter((r): r is string => typeof r === 'string') : undefined;
  const next: PeerState = {
    session,
    online: entry.event === PEER_ADDED,
    roles: roles ?? prev?.roles ?? [],
  };
  return { ...state, [node]: next };
}

export const rosterView: View<RosterState> = {
  name: ROSTER_VIEW,
  initial: () => ({}),
  apply: (state, entry: Entry) => applyPeerEntry(state, entry),
};

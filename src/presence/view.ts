/**
 * The roster as a derived view: folded from `peer_added` / `peer_removed` entries, so the roster a
 * node held survives restarts and ring eviction (snapshots) and can be replayed. The live roster
 * applies the same function to the entries it writes.
 */
import { NO_EPOCH } from '../protocol/index.js';
import type { Entry, View } from '../series/index.js';
import { MAX_PEERS, PEER_ADDED, PEER_REMOVED, ROSTER_VIEW } from './constants.js';

export interface PeerState {
  session: number;
  /** Absent from entries written before epochs: 0. */
  epoch: number;
  online: boolean;
  roles: string[];
}

export type RosterState = Record<string, PeerState>;

/** The peer an entry sets, or undefined when the entry leaves the roster as it is. */
function peerUpdate(
  state: RosterState,
  entry: { event: string; [k: string]: unknown },
): [node: string, peer: PeerState] | undefined {
  if (entry.event !== PEER_ADDED && entry.event !== PEER_REMOVED) return undefined;
  const node = entry.node;
  const session = entry.session;
  if (typeof node !== 'string' || typeof session !== 'number') return undefined;
  const prev = state[node];
  if (prev === undefined && Object.keys(state).length >= MAX_PEERS) return undefined;
  const roles = Array.isArray(entry.roles) ? entry.roles.filter((r): r is string => typeof r === 'string') : undefined;
  const epoch = Number.isSafeInteger(entry.epoch) ? (entry.epoch as number) : NO_EPOCH;
  return [node, { session, epoch, online: entry.event === PEER_ADDED, roles: roles ?? prev?.roles ?? [] }];
}

/** Pure step: a new roster object when the entry changes it, the same one otherwise. */
export function applyPeerEntry(state: RosterState, entry: { event: string; [k: string]: unknown }): RosterState {
  const u = peerUpdate(state, entry);
  return u ? { ...state, [u[0]]: u[1] } : state;
}

/**
 * The view's step updates the series-owned state in place (same result as `applyPeerEntry`: an
 * existing key keeps its place, a new one goes last) instead of copying the roster per peer entry;
 * every other entry returns the state untouched.
 */
export const rosterView: View<RosterState> = {
  name: ROSTER_VIEW,
  events: [PEER_ADDED, PEER_REMOVED],
  initial: () => ({}),
  apply(state, entry: Entry) {
    const u = peerUpdate(state, entry);
    if (!u) return state;
    // `__proto__` as a plain assignment would set the prototype: copy as the pure step does.
    if (u[0] === '__proto__') return { ...state, [u[0]]: u[1] };
    state[u[0]] = u[1];
    return state;
  },
};

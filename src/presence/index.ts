/**
 * Presence: the roster derived from retained presence records (who is online, roles, session).
 */
import { LiveRoster, type RosterDeps } from './roster.js';
import type { Roster } from './types.js';

export * from './constants.js';
export type { RosterDeps } from './roster.js';
export type { Peer, PeerChange, Roster, RosterStats } from './types.js';
export { applyPeerEntry, type PeerState, type RosterState, rosterView } from './view.js';

export interface StartableRoster extends Roster {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createRoster(deps: RosterDeps): StartableRoster {
  return new LiveRoster(deps);
}

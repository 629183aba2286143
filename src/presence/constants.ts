/** Presence defaults. Units are in the names. */

/**
 * Quiet window used only when the roster barrier is off (`barrier: false`): the retained roster is
 * taken as held once no retained presence record arrived for one whole window after SUBACK. A
 * guess (Aedes leaves gaps of tens of ms inside the retained stream): the barrier
 * (protocol/roster-barrier.ts) is the default.
 */
export const ROSTER_QUIET_MS = 150;
/** Upper bound on waiting for the end of the retained roster, ms: then the node goes ahead (warned). */
export const ROSTER_MAX_WAIT_MS = 3_000;
/** Nodes the roster tracks; records of further nodes are dropped and counted. */
export const MAX_PEERS = 10_000;

export const PEER_ADDED = 'peer_added';
export const PEER_REMOVED = 'peer_removed';
export const ROSTER_VIEW = 'roster';

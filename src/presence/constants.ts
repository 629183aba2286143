/** Presence defaults. Units are in the names. */

/**
 * The retained roster is held once no retained presence record arrived for one whole quiet
 * window after SUBACK. MQTT 3.1.1 has no end-of-retained marker and Aedes keeps streaming retained
 * records after SUBACK (DESIGN.md: a marker overtook 383–499 of 500 records), so silence on the
 * wire, not a marker, says the stream is over.
 */
export const ROSTER_QUIET_MS = 150;
/** Upper bound on waiting for the retained roster, ms: after it the node declares anyway (warned). */
export const ROSTER_MAX_WAIT_MS = 3_000;
/** Nodes the roster tracks; records of further nodes are dropped and counted. */
export const MAX_PEERS = 10_000;

export const PEER_ADDED = 'peer_added';
export const PEER_REMOVED = 'peer_removed';
export const ROSTER_VIEW = 'roster';

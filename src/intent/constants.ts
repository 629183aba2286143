/**
 * Intent defaults (docs/protocol.md §7). Units are in the names.
 */

/** Deadline of a declared intent when the caller gives none, ms after receipt. */
export const DEFAULT_DEADLINE_MS = 2_000;
/** Longest deadline a declaration may ask for, ms (keeps pending state short-lived). */
export const MAX_DEADLINE_MS = 60_000;
/** Pending (open) intents a node may hold at once; one more throws `IntentTableFullError`. */
export const MAX_PENDING_INTENTS = 1_024;
/** How long a closed intent is remembered so late replies are kept, ms. */
export const LATE_KEEP_MS = 5_000;
/** Closed intents remembered for late replies at once (oldest forgotten first). */
export const MAX_REMEMBERED_INTENTS = 1_024;
/** Late replies kept per closed intent. */
export const MAX_LATE_PER_INTENT = 256;
/** Received intents being handled at once on the answer side; beyond it NO `rate_limited`. */
export const MAX_IN_FLIGHT_ANSWERS = 256;
/** Retry hint sent with an overload NO, ms. */
export const OVERLOAD_RETRY_MS = 250;

/**
 * A requester under pressure is told this node's `lim` again after this long even when the values
 * did not change: a reply is QoS 0, and one lost must not leave it believing old values for good.
 */
export const LIM_REFRESH_MS = 1_000;
/** Requesters whose last-told `lim` is kept (oldest forgotten first; a forgotten one is told again). */
export const MAX_LIM_TOLD = 1_024;

/** Kinds of v1 and the role that serves each (docs/protocol.md §10). Handlers may add kinds. */
export const KIND_ROLES: Readonly<Record<string, string>> = {
  want_chunk: 'bt',
  store_chunk: 'bt',
  want_chunks: 'bt',
  want_observations: 'mapper',
};

/** Intent kinds match this (docs/protocol.md §2). */
export const KIND_PATTERN = /^[a-z_]{1,32}$/;

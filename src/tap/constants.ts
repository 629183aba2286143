/** Tap defaults. Units are in the names. */

/** Intents whose receive time the tap keeps, to give each reply its elapsed ms; oldest forgotten first. */
export const MAX_TRACKED_INTENTS = 4_096;
/** How long the tap waits for the broker's CONNACK before it counts as unreachable, ms. */
export const TAP_CONNECT_TIMEOUT_MS = 10_000;
/** The message types a tap prints (`--kind`). */
export const TAP_TYPES = ['presence', 'intent', 'reply', 'have', 'sync', 'malformed'] as const;
export type TapType = (typeof TAP_TYPES)[number];
/** Bytes of lines waiting for a slow stdout before further lines are dropped (and counted). */
export const TAP_MAX_BUFFERED_BYTES = 1_048_576;
/** Delay between reconnection attempts after the broker went away, ms. */
export const TAP_RECONNECT_MS = 1_000;

/** Transport defaults. Units are in the names. */

/** MQTT keep-alive, seconds: a dead peer's Will fires after ~1.5x this (MQTT-3.1.2-24). */
export const DEFAULT_KEEPALIVE_S = 10;
/** Time allowed for one CONNECT → CONNACK, ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** First reconnect delay, ms; doubled per failed attempt up to the max. */
export const RECONNECT_MIN_MS = 100;
/** Longest reconnect delay, ms (bounded backoff). */
export const RECONNECT_MAX_MS = 5_000;
/** How long `start()` waits for the first connection before failing, ms (0 = forever). */
export const DEFAULT_START_TIMEOUT_MS = 10_000;
/**
 * Connections closed by the broker soon after they were accepted (each up for less than
 * `QUICK_LOSS_MS`), within `TAKEOVER_WINDOW_MS`, that mean another process connects with this
 * node's client id (MQTT-3.1.4-2 takeover).
 */
export const TAKEOVER_LOSSES = 3;
/** A connection closed by the broker within this long of its CONNACK is a quick loss, ms. */
export const QUICK_LOSS_MS = 10_000;
/**
 * The window in which `TAKEOVER_LOSSES` quick losses mean a takeover, ms: longer than three
 * reconnects at `RECONNECT_MAX_MS`, so the other process is found even once it backs off.
 */
export const TAKEOVER_WINDOW_MS = 30_000;
/** While the id stays taken, said again at most this often, ms. */
export const ID_TAKEN_REPEAT_MS = 60_000;
/** How long a plain connection closed before its CONNACK waits to learn whether the port speaks TLS, ms. */
export const TLS_PROBE_TIMEOUT_MS = 2_000;
/** How long a refused node waits to learn whether the broker accepts it without its Will, ms. */
export const WILL_PROBE_TIMEOUT_MS = 2_000;
/** Subscriptions (filters) one transport holds at once. */
export const MAX_SUBSCRIPTIONS = 256;
/** Reject reasons remembered for logging once each. */
export const MAX_LOGGED_REASONS = 64;
/** Topics whose parse and matching routes are cached by the dispatcher (cleared on (un)subscribe). */
export const MAX_TOPIC_CACHE = 4_096;
/**
 * Retained-record changes (`have` records, withdrawals, the roster barrier) kept while the broker is
 * away, records (one per topic: a newer change replaces the kept one). Past it the oldest is dropped.
 */
export const MAX_OUTBOX_RECORDS = 4_096;

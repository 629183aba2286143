/**
 * Broker host defaults (units in the names).
 */
import { MAX_PAYLOAD_BYTES } from '../src/protocol/constants.js';

/** MQTT over TCP (IANA 1883). */
export const DEFAULT_PORT = 1883;

/** Embedded brokers listen on loopback; `dameso broker` defaults to every interface. */
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_HOSTED_HOST = '0.0.0.0';

/**
 * Largest whole MQTT packet accepted, bytes: the 1 MiB payload bound plus 1 KiB for the fixed
 * header, topic and packet id. A packet announcing more is refused at its header, before its
 * body is buffered, and the connection is closed (MQTT 3.1.1 has no way to refuse one packet).
 */
export const DEFAULT_MAX_PACKET_BYTES = MAX_PAYLOAD_BYTES + 1024;

/**
 * Most retained `have` records the broker stores (have-retention.ts): each cost ~1 KB of RSS here
 * with the in-memory store, so ~100 MB at the bound. Beyond it new records are delivered live but
 * not stored. A hub on a 1 GB board may keep the default; on a Zero, lower it.
 */
export const DEFAULT_MAX_RETAINED_HAVES = 100_000;

/** Most nodes whose latest session the publish check remembers (oldest forgotten first). */
export const MAX_TRACKED_NODES = 100_000;

/**
 * Topic strings and client ids whose parse the publish check remembers (each emptied when full):
 * a fleet of thousands of nodes publishes on a few topics per node.
 */
export const MAX_REMEMBERED_TOPICS = 16_384;
export const MAX_REMEMBERED_CLIENT_IDS = 16_384;

/** Where dropped publishes are diverted: a `$` topic no wildcard matches and nobody may subscribe to. */
export const DROP_TOPIC = '$dameso/dropped';

/** How often `dameso broker` prints its counts, ms. */
export const DEFAULT_STATS_INTERVAL_MS = 60_000;

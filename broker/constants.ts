/**
 * Broker host defaults (units in the names).
 */
import { MAX_PAYLOAD_BYTES } from '../src/protocol/index.js';

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
 * Most retained `have` records the broker stores (have-retention.ts; memory per record with the
 * in-memory store: docs/operations.md "Retained have records"). Beyond it new records are delivered live but
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

/**
 * Time a new connection has to deliver its whole CONNECT packet, ms (Aedes' `connectTimeout`: its
 * timer runs from accept until a complete CONNECT is parsed, so a half-sent one is closed too).
 * A node on a slow link sends a CONNECT of a few hundred bytes well within it.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Most open connections, every listener together, counted from accept (a TLS handshake in progress
 * counts). Lowered at start to the descriptor limit minus FD_RESERVE when that is lower.
 */
export const DEFAULT_MAX_CONNECTIONS = 1_000;

/**
 * Most open connections from one address (IPv6: one /64). A site may NAT its boards behind one
 * address: 64 fits a site's worth of nodes while one host flooding sockets holds at most 64.
 */
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 64;

/** Descriptors kept for everything but client sockets: listeners, Redis, log, metrics, files. */
export const FD_RESERVE = 64;

/**
 * Longest a client may stay silent, s: a client that asked for keepalive 0 or more than this is
 * held to keepalive = this, and closed after 1.5 times it without a packet (MQTT-3.1.2-24's grace).
 */
export const DEFAULT_MAX_IDLE_S = 300;

/**
 * Time one MQTT packet has from its first byte to its last, ms: a packet left half-sent or trickled
 * closes the connection instead of holding its buffered bytes. 1 MiB in it needs ~50 KB/s.
 */
export const DEFAULT_PACKET_TIMEOUT_MS = 20_000;

/**
 * Largest CONNECT packet, bytes: client id, a presence Will, username and password fit many times;
 * an unauthenticated peer cannot make the broker buffer a packet-size worth before it is known.
 */
export const MAX_CONNECT_PACKET_BYTES = 16 * 1024;

/**
 * Bytes all incomplete packets may hold together, every connection: what a crowd of half-sent or
 * trickled PUBLISHes can pin before the packet timeout. Crossing it closes the connection whose
 * bytes would cross it (its node reconnects and sends again).
 */
export const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;

/** Addresses already warned about a refused connection (least recently warned forgotten first). */
export const MAX_WARNED_ADDRESSES = 1_024;

/** Coarsest period of the sweep that finds slow packets and idle clients, ms (finer for short timeouts). */
export const MAX_SWEEP_INTERVAL_MS = 1_000;

/**
 * The drop budget: a connection whose publishes on the dameso root are dropped more than
 * DEFAULT_MAX_DROPS_PER_WINDOW times within DROP_WINDOW_MS is closed. An honest node's drops come
 * one at a time (a message of its old session in flight across a restart, a bug's one bad
 * envelope): 20 in 10 s is far above that, and far below what a flood sends (thousands a second),
 * whose every payload the broker must still receive and scan.
 */
export const DROP_WINDOW_MS = 10_000;
export const DEFAULT_MAX_DROPS_PER_WINDOW = 20;

/**
 * After a connection is closed for its drops, new connections from its address (an IPv6 /64) are
 * refused at accept for this long, ms, so that it cannot reconnect and flood again at once. Short:
 * boards a site NATs behind the same address only wait one reconnect backoff or two, and the
 * connections they hold are never touched.
 */
export const DEFAULT_DROP_COOLDOWN_MS = 10_000;

/** Addresses cooling down at once (oldest forgotten first): a flood of addresses cannot grow the table. */
export const MAX_COOLING_ADDRESSES = 1_024;

/**
 * Clustered brokers announce themselves on `$SYS/{id}/heartbeat` this often, s. A peer silent for
 * PEER_SILENT_HEARTBEATS heartbeats (while this broker's own heartbeats still come back through
 * Redis) is taken for dead and the Wills of its clients are published: a dead broker's nodes read
 * offline within (PEER_SILENT_HEARTBEATS + 1) heartbeats plus the time to publish their Wills.
 */
export const DEFAULT_HEARTBEAT_S = 1;
export const PEER_SILENT_HEARTBEATS = 3;
/** Peer brokers remembered at once (a cluster has a handful; ids from the wire cannot grow it). */
export const MAX_PEER_BROKERS = 256;

/**
 * A clustered broker stamps each live (not retained) publish with an expiry this far ahead, ms: a
 * delivery past it is dropped instead of arriving late (a publish held in Redis' client queue
 * through an outage). Brokers' clocks must agree to well within it (NTP).
 */
export const DEFAULT_FANOUT_MAX_AGE_MS = 5_000;

/** At stop, how long the broker waits for its clients' Wills to be fanned out before closing Redis, ms. */
export const WILL_FLUSH_MS = 2_000;

/**
 * Wire protocol v1 constants (docs/protocol.md). Units are in the names.
 */

/** The configurable first level of the root `R = {prefix}/v1`. Default `dameso`. */
export const DEFAULT_TOPIC_PREFIX = 'dameso';

/** The version level of the root; v1 payloads carry `v: 1`. */
export const PROTOCOL_LEVEL = 'v1';

/** Largest payload accepted on any dameso topic: 1 MiB (docs/protocol.md §4). */
export const MAX_PAYLOAD_BYTES = 1_048_576;

/** Node ids: `[A-Za-z0-9_-]{1,64}`. */
export const NODE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Intent kinds (and roles): `[a-z_]{1,32}`. */
export const KIND_PATTERN = /^[a-z_]{1,32}$/;

/** Chunk ids: the lowercase hex SHA-256 of the chunk's exact bytes. */
export const CHUNK_ID_PATTERN = /^[0-9a-f]{64}$/;

/** Intent ids: unique text, at most 64 characters (ULID recommended). */
export const MAX_INTENT_ID_CHARS = 64;

/** Longest `subject` accepted (a chunk id is 64, a geohash cell ≤ 12), characters. */
export const MAX_SUBJECT_CHARS = 256;

/** Most roles one presence record may list. */
export const MAX_ROLES = 32;

/** Most node ids in an intent's `to`. */
export const MAX_TO_NODES = 1024;

/**
 * Longest intent `deadline` accepted, ms after receipt: 10 minutes. Bounds how long a responder
 * keeps an intent pending; longer waits are a sign of a wrong unit (seconds vs ms).
 */
export const MAX_DEADLINE_MS = 600_000;

/** QoS per topic family (docs/protocol.md §2). */
export const PRESENCE_QOS = 1 as const;
export const INTENT_QOS = 0 as const;
export const REPLY_QOS = 0 as const;
export const HAVE_QOS = 1 as const;
export const SYNC_QOS = 1 as const;
/** Status and consensus records are retained snapshots: a lost one is replaced by the next. */
export const STATUS_QOS = 0 as const;
export const CONSENSUS_QOS = 0 as const;

/** Closed-intent summaries in one status record (docs/protocol.md §5.6). */
export const MAX_STATUS_CLOSED = 32;
/** Peers in a status record's reputation table. */
export const MAX_STATUS_PEERS = 256;
/** Cells in one consensus announcement. */
export const MAX_CONSENSUS_CELLS = 512;
/** Shortest time between two status (or consensus) records of one node, ms. */
export const STATUS_MIN_INTERVAL_MS = 5_000;

/**
 * MQTT client ids of dameso nodes are `dameso.{node}`: the broker can then tell which node a
 * connection speaks for and drop presence, intents, replies and have records it sends in another
 * node's name. `.` is outside the node id alphabet, so the split is unambiguous. A constant client
 * id per node also makes a reconnect take over the old connection (MQTT-3.1.4-2).
 */
export const CLIENT_ID_PREFIX = 'dameso.';

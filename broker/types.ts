/** Public types of the broker host. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Aedes } from 'aedes';
import type { Clock } from '../src/clock.js';
import type { Logger } from '../src/log.js';
import type { ConnectionRefusal } from './admission.js';
import type { AuthRefusal, BrokerAuth } from './auth.js';
import type { DropReason } from './envelope-check.js';
import type { FdLimit } from './fd-limit.js';
import type { PromiseHooks } from './hooks.js';

export interface BrokerHostOptions {
  /** Interface to listen on. Default `127.0.0.1` (embedded); `dameso broker` uses `0.0.0.0`. */
  host?: string;
  /** MQTT/TCP port; 0 = ephemeral. Default 1883. Sticky across stop()/start(). */
  port?: number;
  /**
   * Interface of the plain MQTT/TCP listener. Default `host`. With `tls`, `127.0.0.1` keeps
   * passwords in clear off the network: remote nodes use TLS, nodes on the broker machine TCP.
   */
  tcpHost?: string;
  /** MQTT/WebSocket port; 0 = ephemeral; undefined (default) = no WebSocket listener. */
  wsPort?: number;
  /**
   * MQTT over TLS (`mqtts://`, TLS 1.2+) on `host`: `port` (0 = ephemeral, sticky across
   * stop()/start()), PEM `cert` (chain) and `key`. Default: no TLS listener. reloadTls() swaps them.
   * `wsPort` also serves MQTT over WebSocket over TLS (`wss://`) with the same pair (0 = ephemeral;
   * default none).
   */
  tls?: { port: number; cert: string | Buffer; key: string | Buffer; wsPort?: number };
  /**
   * One port serving HTTP requests with `onRequest` (the dashboard's page) and MQTT over WebSocket
   * on its upgrades: HTTPS and WSS when `tls` is given, else plain HTTP and WS. 0 = ephemeral
   * (sticky). Default: none.
   */
  http?: { port: number; onRequest: (req: IncomingMessage, res: ServerResponse) => void };
  /** Largest whole MQTT packet, bytes. Default DEFAULT_MAX_PACKET_BYTES (1 MiB + 1 KiB). */
  maxPacketBytes?: number;
  /** First level of the root `{prefix}/v1`. Default `dameso`. */
  topicPrefix?: string;
  /** Validate publishes on `R/#` and drop malformed/spoofed/stale ones. Default true. */
  checkEnvelopes?: boolean;
  /**
   * What a rejected publish does: `drop` (default) acknowledges and discards it, the client stays
   * connected; `disconnect` closes the publisher's connection (Aedes' behaviour for a refusal).
   */
  onReject?: 'drop' | 'disconnect';
  /** Most nodes whose latest session is remembered. Default MAX_TRACKED_NODES (100 000). */
  maxTrackedNodes?: number;
  /**
   * Most retained `have` records stored (have-retention.ts); new ones beyond it are delivered live
   * but not retained. Default DEFAULT_MAX_RETAINED_HAVES (100 000).
   */
  maxRetainedHaves?: number;
  /**
   * Most retained `have` records stored for one node (have-retention.ts): a node past its share
   * still reaches live subscribers, other nodes' records are still stored. Default a sixteenth of
   * `maxRetainedHaves` (6 250 at its default).
   */
  maxHavesPerNode?: number;
  /** Let clients subscribe to `$SYS/#` without auth (the broker's counters and client ids). Default false. */
  allowSys?: boolean;
  /**
   * An Aedes persistence (aedes-persistence, aedes-persistence-redis…). Injected, it is reused by
   * every start(), so retained records survive a restart; by default a new in-memory one is made
   * at each start() and retained records are lost on restart.
   */
  persistence?: unknown;
  /** Factory of the mqemitter (e.g. mqemitter-redis for a cluster), called at each start(). */
  mq?: () => unknown;
  /**
   * A shared backend for several brokers (broker/cluster.ts: redisCluster). Opened at each start()
   * (its persistence and mq replace `persistence`/`mq`), closed at each stop().
   */
  cluster?: BrokerCluster;
  /** Broker id (clusters). Default: Aedes' random UUID. */
  id?: string;
  /**
   * Clustered: how often this broker says it is alive to its peers, ms. A peer silent for three
   * heartbeats is taken for dead and its clients' Wills are published (broker/peer-watch.ts).
   * Default DEFAULT_HEARTBEAT_S (1 s).
   */
  heartbeatMs?: number;
  /**
   * Clustered: a live (not retained) publish not delivered within this long, ms, is dropped instead
   * of delivered late (after a Redis outage). Default DEFAULT_FANOUT_MAX_AGE_MS (5 s).
   */
  fanoutMaxAgeMs?: number;
  /**
   * Every CONNECT must authenticate (username = node id, client id `dameso.{node}`), and what each
   * node may publish and subscribe to is limited by broker/acl.ts. Default: none (open broker).
   */
  auth?: BrokerAuth;
  /** Extra promise-returning hooks run after dameso's own checks (auth, ACL). */
  hooks?: PromiseHooks;
  /**
   * Time from accept to a whole CONNECT packet, ms; a connection without one by then is closed.
   * Default DEFAULT_CONNECT_TIMEOUT_MS (5 s).
   */
  connectTimeoutMs?: number;
  /**
   * Most open connections, every listener together; more are closed at accept. Default
   * DEFAULT_MAX_CONNECTIONS (1000), or the descriptor limit minus FD_RESERVE when that is lower.
   */
  maxConnections?: number;
  /** Most open connections from one address (an IPv6 /64). Default DEFAULT_MAX_CONNECTIONS_PER_IP (64). */
  maxConnectionsPerIp?: number;
  /**
   * Longest silence, s: a client with keepalive 0 or above it is held to it, and closed after 1.5
   * times it without a packet. Default DEFAULT_MAX_IDLE_S (300).
   */
  maxIdleS?: number;
  /** Time one packet has from its first byte to its last, ms. Default DEFAULT_PACKET_TIMEOUT_MS (20 s). */
  packetTimeoutMs?: number;
  /**
   * Bytes every connection's incomplete packet may hold together; the connection that would cross
   * it is closed. Default DEFAULT_MAX_PENDING_BYTES (64 MiB).
   */
  maxPendingBytes?: number;
  /**
   * Most publishes on the dameso root one connection may have dropped within DROP_WINDOW_MS (10 s);
   * one more closes it and cools its address down. 0 = no budget. Default
   * DEFAULT_MAX_DROPS_PER_WINDOW (20).
   */
  maxDropsPerWindow?: number;
  /**
   * After a connection is closed for its drops, new connections from its address (an IPv6 /64) are
   * refused at accept for this long, ms (0 = not at all). Default DEFAULT_DROP_COOLDOWN_MS (10 s).
   */
  dropCoolDownMs?: number;
  /** Clock of the idle and packet timeouts, the drop budget and the cool-downs. Default systemClock. */
  clock?: Clock;
  /** Reads the process's descriptor limit at start. Default: /proc/self/limits (fd-limit.ts). */
  readFdLimit?: () => FdLimit | undefined;
  log?: Logger;
}

/** The connection limits a started host applies. */
export interface BrokerLimits {
  maxConnections: number;
  maxConnectionsPerIp: number;
  connectTimeoutMs: number;
  /** Silence after which a client is closed, ms (1.5 × maxIdleS). */
  idleCloseMs: number;
  packetTimeoutMs: number;
  maxPendingBytes: number;
  /** Drops one connection may have within DROP_WINDOW_MS (0 = no budget). */
  maxDropsPerWindow: number;
  dropCoolDownMs: number;
  /** The process's descriptor limit at start, when known. */
  fdLimit?: FdLimit;
}

/** What a cluster backend gives one start(): the shared retained store and fan-out. */
export interface ClusterParts {
  persistence: unknown;
  mq: unknown;
}

/** A backend several brokers share (Redis). */
export interface BrokerCluster {
  /** Where it points, for logs and the listening line (never a password). */
  readonly describe: string;
  /** Connects; throws a typed error when the backend is unreachable. */
  open(): Promise<ClusterParts>;
  /** Releases what open() connected (after Aedes closed). Idempotent. */
  close(): Promise<void>;
  /** Calls `fn` each time the backend answers again after an outage; returns the unsubscribe. */
  onBack?(fn: () => void): () => void;
  /** Outages of the backend that ended, since it was created. */
  outages?(): number;
  /** When the last outage ended (the monotonic clock of the host), undefined before the first. */
  lastOutageEndMs?(): number | undefined;
}

export interface BrokerAddress {
  host: string;
  port: number;
  /** Interface of the plain MQTT/TCP listener (`tcpHost`, default `host`). */
  tcpHost: string;
  /** `mqtt://TCPHOST:PORT` (127.0.0.1 when listening on every interface). */
  url: string;
  wsPort?: number;
  wsUrl?: string;
  tlsPort?: number;
  /** `mqtts://HOST:PORT` (127.0.0.1 when listening on every interface). */
  tlsUrl?: string;
  /** Port of the MQTT over WebSocket over TLS listener (`tls.wsPort`). */
  wssPort?: number;
  /** `wss://HOST:PORT` (127.0.0.1 when listening on every interface). */
  wssUrl?: string;
  /** Port of the `http` listener (page and MQTT over WebSocket). */
  httpPort?: number;
  /** `http://HOST:PORT/` or `https://HOST:PORT/` (127.0.0.1 when listening on every interface). */
  httpUrl?: string;
}

/** Counters since the host was created (they survive restarts). */
export interface BrokerStats {
  /** Open connections (every listener). */
  connections: number;
  connectionsTotal: number;
  /** Publishes on `R/#` checked. */
  checked: number;
  passed: number;
  /** Dropped publishes per reason. */
  dropped: Record<DropReason, number>;
  droppedTotal: number;
  /** Retained intents/replies passed on with the retain flag cleared. */
  retainStripped: number;
  /** Retained `have` records stored (the bound is `maxRetainedHaves`). */
  retainedHaves: number;
  /** New `have` records passed on live but not stored: the bound or their node's share was reached. */
  havesNotRetained: number;
  /** Of those, the records not stored because their node held its share (`maxHavesPerNode`). */
  havesOverShare: number;
  /** `$SYS` subscriptions refused (SUBACK 0x80) without auth and without `allowSys`. */
  sysDenied: number;
  /** Connections refused because their Will was malformed or spoke for another node. */
  willsRefused: number;
  /** Connections closed because a packet announced more than maxPacketBytes. */
  packetsTooLarge: number;
  /** Nodes whose latest session is remembered. */
  trackedNodes: number;
  /** Connections refused by `auth` (CONNACK 5), per reason. */
  authRefused: Record<AuthRefusal, number>;
  authRefusedTotal: number;
  /** Publishes dropped and subscriptions refused (SUBACK 0x80) by the ACL (with `auth`). */
  aclDenied: { publish: number; subscribe: number };
  /** Deliveries of an intent skipped because its `to` does not name the receiving node (narrow.ts). */
  narrowed: number;
  /**
   * Connections to the TLS or wss listener that failed their TLS handshake: a client that does not
   * trust the certificate, speaks plain MQTT or HTTP to it, or is too old (below TLS 1.2).
   */
  tlsHandshakeFailures: number;
  /** Sockets closed at accept because a connection limit was reached or their address cools down, per reason. */
  refused: Record<ConnectionRefusal, number>;
  refusedTotal: number;
  /** Connections closed for going past their drop budget (their address then cools down). */
  disconnectedForDrops: number;
  /**
   * Connections closed by a timeout: no whole CONNECT in time, a packet not completed in time, a
   * connected client silent too long.
   */
  timedOut: { connect: number; packet: number; idle: number };
  /** Connections closed because their bytes would take incomplete packets past `maxPendingBytes`. */
  pendingOverBudget: number;
  /** Bytes held in incomplete packets now, every connection together. */
  pendingBytes: number;
  /** Clustered: deliveries dropped because their publish was older than `fanoutMaxAgeMs`. */
  staleDeliveries: number;
  /** Clustered: Redis outages that ended (connections lost and back). */
  redisOutages: number;
  /**
   * Clustered: Redis stalls that ended: the connections stayed up but this broker's own heartbeats
   * did not come back for 3 heartbeats or more (Redis hung).
   */
  redisStalls: number;
  /** Clustered: peer brokers taken for dead (silent for three heartbeats). */
  peersDead: number;
  /** Clustered: Wills of dead peers' clients this broker published. */
  deadPeerWills: number;
  /** Clustered: own clients closed (without their Will) because the store had lost their Will. */
  clientsReannounced: number;
}

export interface BrokerHost {
  /** Binds the listeners; resolves with where it listens. */
  start(): Promise<BrokerAddress>;
  /** Closes Aedes, every connection and every listener. Idempotent. */
  stop(): Promise<void>;
  /** The running Aedes, undefined when stopped. */
  readonly broker: Aedes | undefined;
  address(): BrokerAddress | undefined;
  /** The connection limits in force, undefined when stopped. */
  limits(): BrokerLimits | undefined;
  stats(): BrokerStats;
  /**
   * Serves a renewed TLS certificate (PEM chain and key) to new connections, without a restart; open
   * connections keep theirs. Throws, keeping the current one, when the pair is not valid PEM or the
   * key does not match. Throws when the host has no `tls`.
   */
  reloadTls(cert: string | Buffer, key: string | Buffer): void;
}

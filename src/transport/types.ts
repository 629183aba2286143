import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Topics } from '../protocol/index.js';
import type { Series } from '../series/types.js';
import type { ConnectionStatus } from './connection.js';
import type { DispatchStats, InboundHandler } from './dispatcher.js';
import type { IdTakenError } from './errors.js';

export interface PublishOptions {
  /** Default 0. */
  qos?: 0 | 1;
  /** Default false. A retained record published by this node is republished on every reconnect. */
  retain?: boolean;
}

export interface TransportOptions {
  /** Node id (`[A-Za-z0-9_-]{1,64}`). */
  id: string;
  /** `mqtt://host:port`. */
  url: string;
  /** Password for a broker that authenticates (`dameso broker --auth-file`). Default none. */
  password?: string;
  /** MQTT username sent with `password`. Default: the node id (what `dameso broker` expects). */
  username?: string;
  /**
   * PEM CA certificate(s) that `mqtts://` brokers are verified against, instead of the system's
   * trust store (a private CA). Verification is never turned off. Default: the system's CAs.
   */
  ca?: string | Buffer;
  roles: readonly string[];
  caps?: Record<string, unknown>;
  /** Publish presence (birth record + Will). Default true; short-lived CLI nodes pass false. */
  announce?: boolean;
  topics: Topics;
  /** The series holding `session_started` entries (with the `session` and `epoch` views registered). */
  series: Pick<Series, 'append' | 'view'>;
  /** Draws the epoch of a series that has none (protocol/incarnation.ts). Default: crypto random. */
  drawEpoch?: () => number;
  clock: Clock;
  log: Logger;
  /** Default `DEFAULT_KEEPALIVE_S`. */
  keepaliveS?: number;
  /** Default `DEFAULT_CONNECT_TIMEOUT_MS`. */
  connectTimeoutMs?: number;
  /** Default `RECONNECT_MIN_MS`. */
  reconnectMinMs?: number;
  /** Default `RECONNECT_MAX_MS`. */
  reconnectMaxMs?: number;
  /** ms; default `DEFAULT_START_TIMEOUT_MS`; 0 waits forever. */
  startTimeoutMs?: number;
  /** Retained changes kept while the broker is away, records; default `MAX_OUTBOX_RECORDS`. */
  outboxMaxRecords?: number;
  /**
   * Called when another process is found connected with this node's id (at most once per
   * `ID_TAKEN_REPEAT_MS`); the transport itself backs off to its longest delay meanwhile.
   */
  onIdTaken?: (err: IdTakenError) => void;
}

export interface TransportStats extends DispatchStats {
  session: number;
  connected: boolean;
  connects: number;
  attempts: number;
  published: number;
  publishErrors: number;
  /** Retained changes kept while the broker was away, sent from the outbox at a connect. */
  forwarded: number;
  /** Retained changes waiting in the outbox now. */
  kept: number;
  /** Retained changes dropped at the outbox bound (the oldest first). */
  keptDropped: number;
}

export interface Transport {
  readonly id: string;
  readonly topics: Topics;
  /** The current session (0 before the first attempt). */
  readonly session: number;
  /** This node's incarnation (protocol/incarnation.ts; 0 before the first attempt). */
  readonly epoch: number;
  readonly connected: boolean;
  /** Connects (resolves at the first CONNACK + setup); throws BrokerUnreachableError on timeout. */
  start(): Promise<void>;
  /** Whether another process was found connected with this node's id (see IdTakenError). */
  readonly idTaken?: boolean;
  /** Makes a start() still waiting for the broker fail at once with StartAbortedError. */
  abortStart?(): void;
  /** Publishes offline presence (unless `announce: false`) and disconnects cleanly. */
  stop(options?: { announce?: boolean }): Promise<void>;
  /**
   * Publishes a CBOR envelope (or `null`: an empty payload, which withdraws a retained record).
   * Resolves once written (QoS 0) or acknowledged (QoS 1). A retained record (or withdrawal) made
   * while the broker is away resolves at once: it is kept (bounded, newest per topic) and sent in
   * order at the next connect. Otherwise rejects with NotConnectedError while the connection is down
   * (or when it drops before the PUBACK; a retained change is then kept for the next connect).
   */
  publish(topic: string, envelope: object | null, options?: PublishOptions): Promise<void>;
  /** Fire-and-forget publish for hot paths; failures are logged at debug. */
  send(topic: string, envelope: object, options?: PublishOptions): void;
  /**
   * Routes validated messages matching `filter` to `handler` (subscribing at the broker, default
   * QoS 1, and again on every reconnect). Several filters go in ONE SUBSCRIBE, in order. Resolves
   * after SUBACK; returns the unsubscribe function.
   */
  subscribe(
    filter: string | readonly string[],
    handler: InboundHandler,
    options?: { qos?: 0 | 1 },
  ): Promise<() => Promise<void>>;
  /** Called after each (re)connect once subscriptions and presence are in place. */
  onConnect(fn: (session: number) => void): () => void;
  /** Publishes the online record again (used when a stale offline record overwrote ours). */
  republishPresence(): void;
  /** The connection's state now (online, reconnecting since when and why…), for health and status. */
  connection(): ConnectionStatus;
  stats(): TransportStats;
}

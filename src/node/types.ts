/**
 * The composition root's contract: node options, services (js-libp2p style), components.
 */

import type { BrokerHostOptions, BrokerStats } from '../../broker/types.js';
import type { Board } from '../../devices/boards/index.js';
import type { Clock } from '../clock.js';
import type { AnswerBehaviour, Intents, IntentsStats } from '../intent/index.js';
import type { DeclaredIntent, DeclareOptions, Gate, IntentHandler } from '../intent/types.js';
import type { Thresholds } from '../limiters/policy.js';
import type { Logger } from '../log.js';
import type { Roster, RosterDeps, RosterStats, StartableRoster } from '../presence/index.js';
import type { LimiterValues } from '../protocol/index.js';
import type { Durability, Series, SeriesOptions, View } from '../series/types.js';
import type { IdTakenError, Transport, TransportStats } from '../transport/index.js';

/** What every service receives (collaborators passed in, never reached for). */
export interface NodeComponents {
  id: string;
  roles: readonly string[];
  series: Series;
  transport: Transport;
  roster: Roster;
  intents: Pick<Intents, 'declare' | 'serve'>;
  clock: Clock;
  log: Logger;
  /** The node's data folder (the series lives in `{dataDir}/series`; services take sub-folders). */
  dataDir: string;
  /**
   * Why the node's own limiters say it is too busy for background work now (`cpu_busy`,
   * `memory_low`), or undefined when it is not. Background loops (survey, backup) skip a round
   * when this says busy. Always undefined when the node runs with a custom gate.
   */
  pressure(): BackgroundPressure | undefined;
  /**
   * The node's board profile and limiter values now (what a status record shows); undefined when
   * the node runs with a custom gate. Absent on components built by hand.
   */
  limiterReadout?(): { board: string; values: LimiterValues } | undefined;
}

/** What `NodeComponents.pressure()` reports: the NO reason the answer side would give. */
export type BackgroundPressure = 'cpu_busy' | 'memory_low';

export interface ServiceInstance {
  /** Called after the node is connected, serving and holding the retained roster. */
  start?(): void | Promise<void>;
  /** Called first at node stop (reverse order), before intents, transport and series stop. */
  stop?(): void | Promise<void>;
}

/**
 * A plug-in part (chunks, observe…). `views` are registered with the series, `handlers` served
 * when the node has their role; `create` runs after the series is open and before connecting.
 */
export interface Service<I extends ServiceInstance = ServiceInstance> {
  name: string;
  views?: readonly View<unknown>[];
  handlers?: readonly IntentHandler[];
  create(components: NodeComponents): I | Promise<I>;
}

/** A gate, or a factory for one that needs the node's parts (limiters measure the data folder…). */
export type GateOption = Gate | ((components: NodeComponents) => Gate | Promise<Gate>);

export interface NodeOptions {
  /** `[A-Za-z0-9_-]{1,64}`. */
  id: string;
  /** Roles served (`bt`, `mapper`). Default none (declares only). */
  roles?: readonly string[];
  /** `mqtt://host:port`, or `embedded` to run a broker host in this process. Default `DEFAULT_BROKER_URL`. */
  broker?: string;
  /** Password for a broker that authenticates (`dameso broker --auth-file`). Default none. */
  brokerPassword?: string;
  /** MQTT username sent with `brokerPassword`. Default: the node id. */
  brokerUsername?: string;
  /** PEM CA certificate(s) an `mqtts://` broker is verified against (a private CA). Default: the system's. */
  brokerCa?: string | Buffer;
  /** Port of the embedded broker (`broker: 'embedded'`). Default 0 (ephemeral). */
  embeddedPort?: number;
  /** Interface the embedded broker listens on. Default `127.0.0.1` (this machine only). */
  embeddedHost?: string;
  /** The embedded broker also serves the dashboard and MQTT over WebSocket on this port (src/dashboard). */
  embeddedHttp?: BrokerHostOptions['http'];
  /** Data folder; the series is `{dataDir}/series`. Required. */
  dataDir: string;
  /** Series durability. Default `batch` (group commit). */
  durability?: Durability;
  /** Extra series options (segment size, budget, batch window). */
  series?: Omit<SeriesOptions, 'dir' | 'views' | 'clock' | 'log' | 'durability'>;
  /** Default: the node's rate limiters measured against the `device` board's budgets. */
  gate?: GateOption;
  /** Board profile (name or validated data) for the limiters and series defaults. Default `generic`. */
  device?: string | Board;
  /** Limiter threshold overrides over the board's (config beats board). */
  limits?: Partial<Thresholds>;
  handlers?: readonly IntentHandler[];
  views?: readonly View<unknown>[];
  services?: readonly Service[];
  /** Extra kind → role pairs for declaring custom kinds. */
  kindRoles?: Readonly<Record<string, string>>;
  /** Publish presence (birth + Will). Default true; short-lived CLI nodes pass false. */
  announce?: boolean;
  caps?: Record<string, unknown>;
  /** Topic prefix (root `{prefix}/v1`). Default `dameso`. */
  topicPrefix?: string;
  /**
   * Builds the node's roster in place of its own live one (the nodes of a fleet worker share one
   * roster view). Default `createRoster(deps)`.
   */
  roster?: (deps: RosterDeps) => StartableRoster;
  /** Roster barrier (sync record) to know the retained roster is held. Default true. */
  rosterBarrier?: boolean;
  /** Quiet window ending the retained roster when the barrier is off, ms. Default `ROSTER_QUIET_MS`. */
  rosterQuietMs?: number;
  /** Bound on waiting for the retained roster, ms. Default `ROSTER_MAX_WAIT_MS`. */
  rosterMaxWaitMs?: number;
  /** MQTT keep-alive, s. Default `DEFAULT_KEEPALIVE_S`. */
  keepaliveS?: number;
  /** ms; default `DEFAULT_START_TIMEOUT_MS` (0 = wait for the broker forever). */
  startTimeoutMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Retained changes kept while the broker is away, records. Default `MAX_OUTBOX_RECORDS`. */
  outboxMaxRecords?: number;
  /** Another process connects with this node's id (the transport backs off meanwhile). */
  onIdTaken?: (err: IdTakenError) => void;
  /** Default `MAX_PENDING_INTENTS`. */
  maxPending?: number;
  /** ms; default `LATE_KEEP_MS`. */
  lateKeepMs?: number;
  /** Default `MAX_IN_FLIGHT_ANSWERS`. */
  maxInFlight?: number;
  /**
   * A testing aid for fleets: `silent` (online, never answers: every intent is silence) or `slow`
   * (every answer held back `delayMs` from receipt). Default: answers as its handlers decide.
   */
  answerBehaviour?: AnswerBehaviour;
  clock?: Clock;
  log?: Logger;
}

export interface NodeStats {
  transport: TransportStats;
  roster: RosterStats;
  intents: IntentsStats;
}

export interface DamesoNode {
  readonly id: string;
  readonly roles: readonly string[];
  /** The broker URL in use (the embedded broker's once started). */
  readonly brokerUrl: string;
  /** Available after `start()`. */
  readonly series: Series;
  readonly transport: Transport;
  readonly roster: Roster;
  readonly intents: Intents;
  /** Service instances by name. */
  readonly services: Readonly<Record<string, ServiceInstance>>;
  readonly gate: Gate;
  /** Set once a series write or fsync failed (health checks report it); undefined while it writes. */
  readonly seriesFailure: Error | undefined;
  /** The broker this node runs in its process (`broker: 'embedded'`), for its counters; else undefined. */
  readonly embeddedBroker: { readonly url: string; readonly httpUrl?: string; stats(): BrokerStats } | undefined;
  /** Opens the series, connects, serves, waits for the retained roster, starts services. */
  start(): Promise<void>;
  /** Stops services, publishes offline presence, disconnects, flushes and closes the series. */
  stop(): Promise<void>;
  declare(kind: string, options?: DeclareOptions): DeclaredIntent;
  stats(): NodeStats;
}

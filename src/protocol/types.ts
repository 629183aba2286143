/**
 * Wire protocol v1 envelope types (docs/protocol.md §5). Payloads are standard CBOR maps
 * with text keys. What is well-formed is decided in one place: `protocol/validate.ts`.
 */

export const PROTOCOL_VERSION = 1 as const;

/** NO reasons. Not having the thing is SILENCE, not NO (paradigm: silence is data). */
export type NoReason =
  | 'rate_limited'
  | 'storage_full'
  | 'cpu_busy'
  | 'memory_low'
  | 'too_large'
  | 'bad_request'
  | 'not_authorized';

export const NO_REASONS: readonly NoReason[] = [
  'rate_limited',
  'storage_full',
  'cpu_busy',
  'memory_low',
  'too_large',
  'bad_request',
  'not_authorized',
];

/** Limiter values at decision time, each in [0,1], 1 = plenty. */
export interface LimiterValues {
  economic: number;
  cpu: number;
  memory: number;
  w_tracking: number;
  objective: number;
  topology: number;
}

/** The keys of `LimiterValues`, in the order docs/protocol.md §11 lists them (one list for wire and limiters). */
export const LIMITER_NAMES: readonly (keyof LimiterValues)[] = [
  'economic',
  'cpu',
  'memory',
  'w_tracking',
  'objective',
  'topology',
];

/** `R/presence/{node}`, QoS 1, retained. The MQTT Will is the same map with `state: "offline"`. */
export interface PresenceEnvelope {
  v: 1;
  node: string;
  session: number;
  /** The node's incarnation (protocol/incarnation.ts); absent = 0, as protocol v1 peers send. */
  epoch?: number;
  state: 'online' | 'offline';
  roles: string[];
  t: number;
  caps?: Record<string, unknown>;
}

/** `R/intent/{kind}`, QoS 0. `deadline` is ms after receipt (clocks are not shared). */
export interface IntentEnvelope {
  v: 1;
  id: string;
  from: string;
  session: number;
  /** The sender's incarnation (protocol/incarnation.ts); absent = 0. */
  epoch?: number;
  kind: string;
  t: number;
  deadline: number;
  subject?: string;
  to?: string[];
  body?: unknown;
}

/** `R/reply/{requester}`, QoS 0. */
export interface ReplyEnvelope {
  v: 1;
  id: string;
  from: string;
  session: number;
  /** The responder's incarnation (protocol/incarnation.ts); absent = 0. */
  epoch?: number;
  r: 'yes' | 'no';
  reason?: NoReason;
  retry?: number;
  data?: unknown;
  lim?: LimiterValues;
}

/** `R/have/{chunk}/{node}`, QoS 1, retained; an empty retained payload withdraws it. */
export interface HaveEnvelope {
  v: 1;
  node: string;
  chunk: string;
  size: number;
  t: number;
}

/**
 * `R/sync/{node}`, QoS 1, retained, published by `node` itself: the roster barrier (see
 * protocol/roster-barrier.ts). An empty retained payload clears it.
 */
export interface SyncEnvelope {
  v: 1;
  node: string;
  /** Unique per barrier (ULID recommended), at most 64 characters. */
  nonce: string;
  t: number;
}

/** One intent its requester closed, counted (docs/protocol.md §5.6); never the node lists. */
export interface ClosedIntentSummary {
  id: string;
  kind: string;
  /** Declaration to close on the requester's monotonic clock, ms. */
  ms: number;
  yes: number;
  /** NO answers counted per reason. */
  no: Record<string, number>;
  silence: number;
  offline: number;
}

/**
 * `R/status/{node}`, QoS 0, retained, optional, published by `node` itself at most once per
 * STATUS_MIN_INTERVAL_MS: what a dashboard shows of it.
 */
export interface StatusEnvelope {
  v: 1;
  node: string;
  session: number;
  epoch?: number;
  t: number;
  /** Board profile name. */
  board?: string;
  /** The NO reason the node's limiters would give background work now; absent when not busy. */
  busy?: string;
  lim?: LimiterValues;
  /** Intents it closed since its previous status record, newest last (at most MAX_STATUS_CLOSED). */
  closed?: ClosedIntentSummary[];
  /** Reputation of its peers as it derives it, each in [0,1] (at most MAX_STATUS_PEERS). */
  rep?: Record<string, number>;
}

/** One cell of a consensus announcement. `low` marks a cell fewer than its minimum answered for. */
export interface ConsensusCell {
  cell: string;
  metric: string;
  value: number;
  spread: number;
  /** Responders counted. */
  n: number;
  t: number;
  low?: true;
}

/**
 * `R/consensus/{node}`, QoS 0, retained, optional: the newest consensus `node` derived per cell and
 * metric (at most MAX_CONSENSUS_CELLS, newest kept).
 */
export interface ConsensusEnvelope {
  v: 1;
  node: string;
  session: number;
  epoch?: number;
  t: number;
  cells: ConsensusCell[];
}

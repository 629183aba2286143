/**
 * Rate limiters (docs/protocol.md §11): six measured values in [0,1] (1 = plenty), the pure
 * decision policy over them, and the `Gate` the answer side consults before any handler runs.
 *
 * Typical use (what `node.ts` does): `const l = createNodeLimiters({ board, dir, usedBytes, clock });
 * await l.start(); … answer side gets l.gate …; await l.stop();`
 *
 * A node built by `createNode` without a `gate` option does this itself: `startNodeLimiters`
 * (board from `device`, thresholds from `limits`) and registers the `limiters` view.
 *
 * What survives a restart: `economic` is measured from real bytes (series stats, chunk store,
 * statfs) so it is right from the first sample; `memory`/`cpu` are live measurements; the
 * `w_tracking` and `objective` windows are deliberately not restored (see `w-tracking.ts`); the
 * decisions themselves are in the series with their `lim`, and the thresholds in force are in
 * `limiter_config` entries and in the `limiters` view of every snapshot (so they survive ring
 * eviction): `replaySeries` / `replayDecisions` explain every past answer still in the ring.
 */
export * from './constants.js';
export { type CpuLimiter, type CpuOptions, createCpu } from './cpu.js';
export { createNodeLimiters, type NodeLimiters, type NodeLimitersOptions } from './create.js';
export { createDirUsage, type DirUsage, type DirUsageOptions } from './dir-usage.js';
export { createEconomic, type EconomicLimiter, type EconomicOptions } from './economic.js';
export {
  type NodeLimiterOptions,
  ROSTER_SAMPLE_MS,
  seriesOptionsFor,
  servicesUsedBytes,
  startNodeLimiters,
} from './for-node.js';
export {
  createLimiterGate,
  type GateLimiters,
  type GateStats,
  type LimiterGate,
  type LimiterGateOptions,
} from './gate.js';
export { type LimiterHistory, readLimiterHistory } from './history.js';
export { createMemory, type MemoryLimiter, type MemoryOptions } from './memory.js';
export { createObjective, type ObjectiveLimiter, type ObjectiveOptions } from './objective.js';
export {
  consumesStorage,
  DEFAULT_THRESHOLDS,
  type DecideScope,
  decide,
  type RetryHints,
  resolveThresholds,
  type Thresholds,
  type Verdict,
} from './policy.js';
export {
  isLimiterValues,
  LIMITER_REASONS,
  type ReplayMismatch,
  type ReplayOptions,
  type ReplayReport,
  replayDecisions,
  replaySeries,
} from './replay.js';
export { roundValues } from './round.js';
export { createTopology, type PeerCounts, type TopologyOptions } from './topology.js';
export { clamp01, LIMITER_NAMES, type Limiter, type LimiterName, type LimiterSet } from './types.js';
export { type DetectedDeviceRecord, type LimiterTally, limitersView, RECENT_NO_KEPT } from './view.js';
export { createWTracking, type WTrackingLimiter, type WTrackingOptions } from './w-tracking.js';

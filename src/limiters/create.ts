/**
 * One node's limiters built from its board profile, with the gate over them. The node owns the
 * returned object's lifecycle: `start()` begins sampling (first statfs, first memory sample,
 * event-loop histogram), `stop()` clears every timer.
 */
import { type Board, loadBoard } from '../../devices/boards/index.js';
import { type Clock, systemClock } from '../clock.js';
import type { Logger } from '../log.js';
import { type CpuLimiter, createCpu } from './cpu.js';
import { createEconomic, type EconomicLimiter } from './economic.js';
import { createLimiterGate, type GateLimiters, type LimiterGate } from './gate.js';
import { createMemory, type MemoryLimiter } from './memory.js';
import { createObjective } from './objective.js';
import type { Thresholds } from './policy.js';
import { createTopology, type PeerCounts } from './topology.js';
import { createWTracking } from './w-tracking.js';

export interface NodeLimitersOptions {
  /** Board profile; default `loadBoard('generic')`. */
  board?: Board;
  /** Threshold overrides over the board's (config beats board). */
  thresholds?: Partial<Thresholds>;
  clock?: Clock;
  log?: Logger;
  /** Data folder measured with statfs. Omit to skip the free-space check. */
  dir?: string;
  /** Bytes the node stores (series + chunk store); O(1). Default: 0 (then statfs alone decides). */
  usedBytes?: () => number;
  /** Roster counts for `topology`. */
  peers?: () => PeerCounts;
  /** Broker round trip, ms, when known. */
  brokerRttMs?: () => number | undefined;
  /** Share of its capacity the node already holds, [0,1], for `objective`. */
  heldShare?: () => number;
  /** Called after each CPU window (tests and `dameso limits` wait on it). */
  onCpuSample?: (value: number) => void;
}

export interface NodeLimiters {
  readonly board: Board;
  readonly limiters: GateLimiters & {
    readonly economic: EconomicLimiter;
    readonly cpu: CpuLimiter;
    readonly memory: MemoryLimiter;
  };
  readonly gate: LimiterGate;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const MIB = 1024 * 1024;

export function createNodeLimiters(options: NodeLimitersOptions = {}): NodeLimiters {
  const board = options.board ?? loadBoard();
  const clock = options.clock ?? systemClock;
  const limiters = {
    economic: createEconomic({
      clock,
      usedBytes: options.usedBytes ?? (() => 0),
      dir: options.dir,
      budgetBytes: board.storage.budgetBytes,
      reserveBytes: board.storage.reserveBytes,
      statfsEveryMs: board.storage.statfsEveryMs,
      log: options.log,
    }),
    cpu: createCpu({
      clock,
      windowMs: board.cpu.sampleWindowMs,
      loopDelayBudgetMs: board.cpu.loopDelayBudgetMs,
      budgetCores: board.cpu.budgetCores,
      onSample: options.onCpuSample,
    }),
    // The heap budget is the board's old-space size even when the process was started without the
    // flag (then V8's own limit is larger and would never bind first).
    memory: createMemory({
      clock,
      rssBudgetBytes: board.memory.budgetBytes,
      heapLimitBytes: board.memory.maxOldSpaceMb * MIB,
    }),
    w_tracking: createWTracking({
      clock,
      capacity: board.intents.capacityPerWindow,
      windowMs: board.intents.windowMs,
    }),
    objective: createObjective({ clock, windowMs: board.intents.windowMs, heldShare: options.heldShare }),
    topology: createTopology({ peers: options.peers, brokerRttMs: options.brokerRttMs }),
  };
  const gate = createLimiterGate({ limiters, thresholds: { ...board.thresholds, ...options.thresholds }, clock });
  let started = false;
  return {
    board,
    limiters,
    gate,
    async start() {
      if (started) return;
      started = true;
      limiters.cpu.start();
      limiters.memory.start();
      await limiters.economic.start();
    },
    async stop() {
      if (!started) return;
      started = false;
      limiters.cpu.stop();
      limiters.memory.stop();
      limiters.economic.stop();
    },
  };
}

/**
 * A node's limiters, wired to the node's own parts: what `createNode` uses as its gate when no
 * other gate is given (every node gates its answer side with its limiters by default).
 *
 * - `economic`: usedBytes = series bytes (`series.bytes()`, a sum over the segments, no allocation:
 *   read at every decision) + `extraUsedBytes()` (the chunk store), statfs on the data folder;
 * - `objective`: heldShare = `extraUsedBytes()` / (storage budget − ring budget), i.e. how full the
 *   chunk store's share of the storage budget is;
 * - `topology`: roster counts, re-read at most every `ROSTER_SAMPLE_MS` (the roster count is O(peers),
 *   too much per intent in a storm); the broker round trip is not measured by the transport yet;
 * - a `limiter_config` entry (board, thresholds) is appended at start so `replayDecisions` replays
 *   each decision with the thresholds that were in force.
 */
import { getHeapStatistics } from 'node:v8';
import { type Board, detectionOf, heapFlag, loadBoard } from '../../devices/boards/index.js';
import type { NodeComponents, ServiceInstance } from '../node/types.js';
import { LIMITER_CONFIG_EVENT } from './constants.js';
import { createNodeLimiters, type NodeLimiters } from './create.js';
import type { Thresholds } from './policy.js';
import type { PeerCounts } from './topology.js';

/** How often topology re-reads the roster counts, ms. */
export const ROSTER_SAMPLE_MS = 1_000;

export interface NodeLimiterOptions {
  /** Board profile or its name. Default `generic`. */
  device?: string | Board;
  /** Threshold overrides over the board's. */
  thresholds?: Partial<Thresholds>;
  /** Other bytes the node stores besides the series (chunk store), O(1). Default none. */
  extraUsedBytes?: () => number;
}

/** Build and start a node's limiters from its components; `stop()` them when the node stops. */
export async function startNodeLimiters(c: NodeComponents, options: NodeLimiterOptions = {}): Promise<NodeLimiters> {
  const board = typeof options.device === 'object' ? options.device : loadBoard(options.device);
  const extra = options.extraUsedBytes;
  let peers: PeerCounts = { online: 0, known: 0 };
  let peersAt = Number.NEGATIVE_INFINITY;
  // What the storage budget leaves beside the series ring is the chunk store's share: how full it is
  // is "how much the node already holds" for `objective`.
  const holdBudget = Math.max(1, board.storage.budgetBytes - board.series.ringBudgetBytes);
  const l = createNodeLimiters({
    heldShare: extra === undefined ? undefined : () => Math.min(1, extra() / holdBudget),
    board,
    thresholds: options.thresholds,
    clock: c.clock,
    log: c.log,
    dir: c.dataDir,
    usedBytes: extra === undefined ? () => c.series.bytes() : () => c.series.bytes() + extra(),
    peers: () => {
      const now = c.clock.monotonic();
      if (now - peersAt >= ROSTER_SAMPLE_MS) {
        const s = c.roster.stats();
        peers = { online: s.online, known: s.peers };
        peersAt = now;
      }
      return peers;
    },
  });
  await l.start();
  const heapMiB = Math.round(getHeapStatistics().heap_size_limit / 1048576);
  if (heapMiB > board.memory.maxOldSpaceMb * 1.5) {
    // The memory limiter still holds the board's heap budget; V8 just would not stop us itself.
    // Debug, not info: true of every node started without the flag, it is no news at each start.
    c.log.debug(
      { board: board.board, heapMiB, boardHeapMiB: board.memory.maxOldSpaceMb },
      `limiters: this process may grow its heap to ${heapMiB} MiB; on a ${board.board} start it with node ${heapFlag(board)}`,
    );
  }
  // Not awaited: under `batch` durability it resolves at the next commit; seq order is fixed now,
  // before any decision can be appended.
  c.series
    .append({
      event: LIMITER_CONFIG_EVENT,
      board: board.board,
      thresholds: { ...l.gate.thresholds },
      kindCosts: { ...l.gate.kindCosts },
      ...deviceFields(board),
    })
    .catch((err: unknown) => c.log.warn({ err }, 'limiters: could not record limiter_config'));
  return l;
}

/** With `--device auto`: the model read and the memory budget scaled to the machine's RAM, for `status`. */
function deviceFields(board: Board): { model: string | null; ramBytes: number; memoryBudgetBytes: number } | undefined {
  const d = detectionOf(board);
  return d === undefined
    ? undefined
    : { model: d.model, ramBytes: d.ramBytes, memoryBudgetBytes: board.memory.budgetBytes };
}

/** The board's series options (segment size, group-commit window, ring budget); `node.series` overrides. */
export function seriesOptionsFor(device?: string | Board): {
  segmentBytes: number;
  batchWindowMs: number;
  budgetBytes: number;
} {
  const board = typeof device === 'object' ? device : loadBoard(device);
  return {
    segmentBytes: board.series.segmentBytes,
    batchWindowMs: board.series.batchWindowMs,
    budgetBytes: board.series.ringBudgetBytes,
  };
}

/** Sum of `usedBytes()` of the service instances that have one (the chunk store does). */
export function servicesUsedBytes(instances: Iterable<readonly [string, ServiceInstance]>): number {
  let sum = 0;
  for (const [, inst] of instances) {
    const f = (inst as { usedBytes?: unknown }).usedBytes;
    if (typeof f === 'function') sum += Number(f.call(inst)) || 0;
  }
  return sum;
}

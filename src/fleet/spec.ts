/**
 * The seam between how a fleet is hosted (workers, processes, the run loop) and what it does
 * (scenario, faults, checks): a plan is a list of node specs, the ground truth per cell and a fault
 * schedule, all reproducible from one seed.
 */

/** How a node answers: honestly, never (`silent`), near the deadline (`slow`), with a biased sensor (`liar`), or repeating a liar (`copier`). */
export type Behaviour = 'honest' | 'silent' | 'slow' | 'liar' | 'copier';

export interface NodeSpec {
  /** `fleet-<i>`. */
  id: string;
  /** `['bt']`, `['mapper']` or `['bt', 'mapper']`. */
  roles: string[];
  dataDir: string;
  behaviour: Behaviour;
  /** Where a mapper stands, decimal degrees. */
  position?: { lat: number; lon: number };
  /** A simulated sensor: a liar has bias ≠ 0; a copier has the same seed, bias and position as the liar it copies. */
  simulate?: { metric: string; bias: number; noiseSigma: number; seed: number };
  /** `slow`: delay before answering, ms. */
  answerDelayMs?: number;
  surveyEveryS?: number;
  survey?: string[];
  minResponders?: number;
  /** Storage nodes this node backs its series up to (0 = off). */
  replicate?: number;
  /** A disk-full storage node: bytes its services may hold. */
  storageBudgetBytes?: number;
}

/** What a fault does to the fleet. */
export type FaultKind = 'kill' | 'broker-restart' | 'stall';

export interface Fault {
  /** Seconds from the start of the declaring phase. */
  atS: number;
  kind: FaultKind;
  /** `kill`: the node id or `worker-<i>` to SIGKILL; `stall`: the node ids behind the stalled proxy. */
  targets?: string[];
  /** `stall`: how long the proxy stops forwarding, s. */
  durationS?: number;
}

export interface FaultSchedule {
  /** In time order. */
  faults: Fault[];
}

export interface FleetPlan {
  specs: NodeSpec[];
  /** Ground truth per cell (cell → value). */
  truth: Record<string, number>;
  faults: FaultSchedule;
  seed: number;
}

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

/** Every setting of a scenario; counts may be given as a fraction in (0,1) of the eligible nodes. */
export interface ScenarioOptions {
  /** Nodes in the fleet (the requester not included), count. */
  nodes: number;
  /** Storage-only nodes, count; undefined: none unless `mappers` leaves the rest to both. */
  bt?: number;
  /** Mapper-only nodes, count; the nodes neither `bt` nor `mappers` take serve both roles. */
  mappers?: number;
  /** Roles of the nodes neither `bt` nor `mappers` take. Default both (`bt`, `mapper`). */
  roles?: readonly string[];
  /** Cells of the synthetic field the mappers are dealt over, count; default one per `MAPPERS_PER_CELL` mappers. */
  cells?: number;
  /** Seed of the cells' placement on the field. */
  fieldSeed: number;
  /** Liars among the mappers: a fraction in (0,1) or a count. */
  liars: number;
  /** Copiers among the liars (each repeats another liar): a fraction in (0,1) or a count. */
  copiers: number;
  /** What a liar adds to every reading, metric unit. */
  liarBiasUnits: number;
  /** Honest sensor noise (Gaussian sd), metric unit. */
  noiseSigmaUnits: number;
  /** Nodes that never answer: a fraction in (0,1) or a count (never liars). */
  silent: number;
  /** Nodes that answer near the deadline: a fraction in (0,1) or a count (never liars or silent). */
  slow: number;
  /** How long a slow node holds every answer, ms. */
  slowDelayMs: number;
  surveyEveryS: number;
  minResponders: number;
  /** Storage nodes each node backs its series up to, count (capped at the storage nodes there are minus one). */
  replicate: number;
  /** Storage nodes with a tiny storage budget, count. */
  diskFull: number;
  /** The storage budget of a disk-full node, bytes. */
  diskBudgetBytes: number;
  /** 0 = never. */
  killEveryS: number;
  brokerRestartEveryS: number;
  stallEveryS: number;
  /** How long each stall lasts, s. */
  stallForS: number;
  /** Nodes behind the stall proxy: a fraction in (0,1) or a count; default a share of the fleet. */
  stallNodes?: number;
  /** Survey rounds within which every liar's reputation must fall below every honest node's, count. */
  reputationRounds: number;
  /** Largest robust consensus error per cell the truth check accepts, metric unit. */
  truthToleranceUnits: number;
  seed: number;
}

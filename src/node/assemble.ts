/**
 * A full node as `dameso node` runs it: the chunks service (with its background backup), the
 * observe service (sensors, simulated sensors, survey loop) and the limiters gate, around
 * `createNode`. `dameso node` and a fleet worker build their nodes here, so a node hosted by the
 * fleet behaves as one started by hand.
 */
import { createSimulatedSensor, type SensorDriver, smoothField } from '../../devices/sensors/index.js';
import { createChunksService } from '../chunks/index.js';
import { createStatusService } from '../dashboard/index.js';
import { createNode } from '../node.js';
import { createObserveService, MAPPER_ROLE } from '../observe/index.js';
import type { DamesoNode, NodeOptions } from './types.js';

/** One simulated sensor over the synthetic field at the node's position. */
export interface SimulatedSpec {
  metric: string;
  /** Added to every reading (a liar's bias), metric unit. */
  bias: number;
  /** Gaussian noise sd, metric unit; default the simulated sensor's. */
  noiseSigma?: number;
  /** PRNG seed; default derived from the node id (and the sensor's index). */
  seed?: number;
}

export interface SurveySettings {
  surveyEveryS: number;
  survey: string[];
  minResponders: number;
}

export interface AssembleOptions
  extends Omit<NodeOptions, 'services' | 'roles' | 'gate' | 'handlers'>,
    Partial<Pick<NodeOptions, 'handlers'>> {
  roles: readonly string[];
  /** Storage nodes this node backs its own series up to, 0 = off. */
  replicate: number;
  /** Drivers already opened by the caller (serial GPS, line sensors); their ports stay the caller's. */
  drivers?: readonly SensorDriver[];
  /** Simulated sensors (they need `position`). */
  simulate?: readonly SimulatedSpec[];
  /** A fixed station position, used when no GPS fix is fresh. */
  position?: { lat: number; lon: number };
  survey: SurveySettings;
  /** Publish the status and consensus records a dashboard reads (docs/protocol.md §5.6). Default true. */
  dashboardStatus?: boolean;
  /** Bytes the chunk store may hold (a storage node with a small disk); default the store's. */
  storageBudgetBytes?: number;
}

export interface AssembledNode {
  node: DamesoNode;
  /** The node observes (it has drivers or a position), so it serves `mapper`. */
  observes: boolean;
  /** Every driver the node observes from (the caller's and the simulated ones). */
  drivers: readonly SensorDriver[];
}

/** A PRNG seed from the node id (FNV-1a): simulated nodes of one fleet read independent noise. */
export function seedOfId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The simulated sensors of `specs` at `position` (none without a position). */
function simulatedDrivers(
  id: string,
  specs: readonly SimulatedSpec[],
  position: { lat: number; lon: number } | undefined,
): SensorDriver[] {
  if (position === undefined || specs.length === 0) return [];
  const field = smoothField();
  const seed = seedOfId(id);
  return specs.map((sim, i) =>
    createSimulatedSensor({
      field,
      position,
      metric: sim.metric,
      bias: sim.bias,
      seed: sim.seed ?? (seed + i) >>> 0,
      ...(sim.noiseSigma !== undefined ? { noiseSigma: sim.noiseSigma } : {}),
    }),
  );
}

/** Builds (does not start) a full node: chunks + observe services over `createNode`. */
export function assembleNode(o: AssembleOptions): AssembledNode {
  const {
    replicate,
    drivers: given = [],
    simulate = [],
    position,
    survey,
    roles: asked,
    storageBudgetBytes,
    dashboardStatus = true,
    ...nodeOptions
  } = o;
  const drivers = [...given, ...simulatedDrivers(o.id, simulate, position)];
  const observes = drivers.length > 0 || position !== undefined;
  const roles = [...asked];
  // Observing without serving `want_observations` would keep the data to itself.
  if (observes && !roles.includes(MAPPER_ROLE)) roles.push(MAPPER_ROLE);
  // The survey pushes its consensus chunks through the node's own chunks service.
  const chunks = createChunksService({
    replicate,
    ...(storageBudgetBytes !== undefined ? { budgetBytes: storageBudgetBytes } : {}),
  });
  const observe = createObserveService({
    drivers,
    ...(position !== undefined ? { staticPosition: position } : {}),
    ...survey,
    chunks,
  });
  const status = dashboardStatus ? [createStatusService()] : [];
  const node = createNode({ ...nodeOptions, roles, services: [chunks, observe, ...status] });
  return { node, observes, drivers };
}

/**
 * What a fleet does, as a plan: each node's roles, behaviour (honest, silent, slow, liar, copier),
 * position on the synthetic field, survey and backup settings, the ground truth of every cell and
 * the fault schedule, all drawn from one seed so that the same options give the same plan.
 *
 * Mappers stand at the centre of their cell (every mapper of a cell reads the same ground truth,
 * so a cell's truth is one number) and are dealt round-robin over the cells; liars and copiers are
 * dealt per cell in the same proportion, so that no cell gets a liar majority by chance.
 */
import path from 'node:path';
import { createPrng, type Prng, smoothField } from '../../devices/sensors/index.js';
import { cellCentre, cellOf, DEFAULT_CELL_PRECISION } from '../observe/index.js';
import {
  DEFAULT_SCENARIO,
  FIELD_ORIGIN,
  FIELD_SPAN_DEG,
  MAPPERS_PER_CELL,
  MAX_CELL_DRAWS,
  SCENARIO_METRIC,
  STALL_DEFAULT_SHARE,
} from './constants.js';
import type { Fault, FleetPlan, NodeSpec, ScenarioOptions } from './spec.js';

export type { ScenarioOptions } from './spec.js';

export interface PlanContext {
  /** Parent of the nodes' data folders. */
  dataDir: string;
  /** Seconds of the run the faults are scheduled over. */
  durationS: number;
}

/** A count from a fraction in (0,1) of `of`, or a whole count (capped at `of`). */
export function countOf(v: number, of: number): number {
  if (!(v > 0)) return 0;
  return Math.min(of, v < 1 ? Math.round(v * of) : Math.floor(v));
}

/** The fleet's plan: specs, truth per cell and faults, reproducible from `o.seed` and `o.fieldSeed`. */
export function planFleet(options: Partial<ScenarioOptions> & { nodes: number }, ctx: PlanContext): FleetPlan {
  const o: ScenarioOptions = { ...DEFAULT_SCENARIO, ...options };
  const prng = createPrng(o.seed);
  const specs = baseSpecs(o, ctx.dataDir);
  const mappers = specs.filter((s) => s.roles.includes('mapper'));
  const cells = drawCells(o.cells ?? Math.max(1, Math.floor(mappers.length / MAPPERS_PER_CELL)), o.fieldSeed);
  const truth = placeMappers(mappers, cells, o);
  dealLiars(mappers, cells, o, prng);
  dealOthers(specs, o, prng);
  dealStorage(specs, o);
  const stallGroup = stallNodes(specs, o, prng);
  return { specs, truth, faults: { faults: schedule(o, ctx.durationS, specs, stallGroup, prng) }, seed: o.seed };
}

function baseSpecs(o: ScenarioOptions, dataDir: string): NodeSpec[] {
  const bt = countOf(o.bt ?? 0, o.nodes);
  const mappers = countOf(o.mappers ?? 0, o.nodes - bt);
  return Array.from({ length: o.nodes }, (_, i) => {
    const id = `fleet-${i}`;
    const roles = i < bt ? ['bt'] : i < bt + mappers ? ['mapper'] : [...(o.roles ?? ['bt', 'mapper'])];
    return { id, roles, dataDir: path.join(dataDir, id), behaviour: 'honest' };
  });
}

/** `n` distinct cells near the field's origin, placed by `seed`. */
export function drawCells(n: number, seed: number): string[] {
  const prng = createPrng(seed);
  const cells = new Set<string>();
  for (let draw = 0; cells.size < n && draw < MAX_CELL_DRAWS; draw++) {
    const lat = FIELD_ORIGIN.lat + (prng.next() - 0.5) * FIELD_SPAN_DEG;
    const lon = FIELD_ORIGIN.lon + (prng.next() - 0.5) * FIELD_SPAN_DEG;
    cells.add(cellOf(lat, lon, DEFAULT_CELL_PRECISION));
  }
  return [...cells];
}

/** Mappers round-robin over the cells, at each cell's centre; the truth there is the field's value. */
function placeMappers(mappers: NodeSpec[], cells: string[], o: ScenarioOptions): Record<string, number> {
  const field = smoothField();
  const truth: Record<string, number> = {};
  mappers.forEach((m, i) => {
    const cell = cells[i % cells.length] as string;
    const position = cellCentre(cell);
    truth[cell] = field(position.lat, position.lon);
    m.position = position;
    m.simulate = { metric: SCENARIO_METRIC, bias: 0, noiseSigma: o.noiseSigmaUnits, seed: seedOf(o.seed, m.id) };
    m.surveyEveryS = o.surveyEveryS;
    m.minResponders = o.minResponders;
  });
  return truth;
}

/** Per cell, the same share of liars (largest remainders first), copiers among them. */
function dealLiars(mappers: NodeSpec[], cells: string[], o: ScenarioOptions, prng: Prng): void {
  const liars = countOf(o.liars, mappers.length);
  const byCell = cells.map((_, c) =>
    shuffle(
      mappers.filter((_, i) => i % cells.length === c),
      prng,
    ),
  );
  const quota = byCell.map((m) => (m.length * liars) / Math.max(1, mappers.length));
  const take = quota.map(Math.floor);
  let left = liars - take.reduce((a, b) => a + b, 0);
  const order = quota.map((q, c) => [q - Math.floor(q), c] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, c] of order) if (left-- > 0) take[c] = (take[c] ?? 0) + 1;
  const all: NodeSpec[][] = byCell.map((m, c) => m.slice(0, take[c]));
  for (const group of all) for (const s of group) makeLiar(s, o);
  let copiers = countOf(o.copiers, liars);
  // A copier needs a liar of its own cell to copy: one per cell at a time, in turn.
  while (copiers > 0) {
    let made = false;
    for (const group of all) {
      const original = group.find((s) => s.behaviour === 'liar');
      const copier = [...group].reverse().find((s) => s.behaviour === 'liar' && s !== original);
      if (copiers === 0 || original === undefined || copier === undefined) continue;
      copier.behaviour = 'copier';
      copier.simulate = { ...(original.simulate as NonNullable<NodeSpec['simulate']>) };
      copiers--;
      made = true;
    }
    if (!made) break;
  }
}

function makeLiar(s: NodeSpec, o: ScenarioOptions): void {
  s.behaviour = 'liar';
  s.simulate = { ...(s.simulate as NonNullable<NodeSpec['simulate']>), bias: o.liarBiasUnits };
}

/** Silent, then slow, among the nodes that are not liars (or copiers). */
function dealOthers(specs: NodeSpec[], o: ScenarioOptions, prng: Prng): void {
  const free = shuffle(
    specs.filter((s) => s.behaviour === 'honest'),
    prng,
  );
  const silent = countOf(o.silent, free.length);
  for (const s of free.slice(0, silent)) s.behaviour = 'silent';
  const slow = countOf(o.slow, free.length - silent);
  for (const s of free.slice(silent, silent + slow)) {
    s.behaviour = 'slow';
    s.answerDelayMs = o.slowDelayMs;
  }
}

/** Backup to K storage nodes (never more than the others there are), and the disk-full budgets. */
function dealStorage(specs: NodeSpec[], o: ScenarioOptions): void {
  const storage = specs.filter((s) => s.roles.includes('bt'));
  for (const s of specs) {
    const others = storage.length - (s.roles.includes('bt') ? 1 : 0);
    s.replicate = Math.max(0, Math.min(o.replicate, others));
  }
  const full = countOf(o.diskFull, storage.length);
  for (const s of storage.slice(storage.length - full)) s.storageBudgetBytes = o.diskBudgetBytes;
}

function stallNodes(specs: NodeSpec[], o: ScenarioOptions, prng: Prng): string[] {
  if (!(o.stallEveryS > 0)) return [];
  const n = Math.max(1, countOf(o.stallNodes ?? STALL_DEFAULT_SHARE, specs.length));
  return shuffle(specs, prng)
    .slice(0, n)
    .map((s) => s.id)
    .sort();
}

/** Faults every S seconds over the run, each kind on its own period; in time order. */
function schedule(o: ScenarioOptions, durationS: number, specs: NodeSpec[], stall: string[], prng: Prng): Fault[] {
  const out: Fault[] = [];
  const every = (s: number, make: (atS: number) => Fault): void => {
    if (!(s > 0)) return;
    for (let at = s; at < durationS; at += s) out.push(make(at));
  };
  every(o.killEveryS, (atS) => ({ atS, kind: 'kill', targets: [pick(specs, prng).id] }));
  every(o.brokerRestartEveryS, (atS) => ({ atS, kind: 'broker-restart' }));
  every(o.stallEveryS, (atS) => ({ atS, kind: 'stall', targets: stall, durationS: o.stallForS }));
  return out.sort((a, b) => a.atS - b.atS);
}

/** The nodes behind the stall proxy (the targets of the plan's stalls). */
export function stallGroupOf(plan: FleetPlan): string[] {
  return plan.faults.faults.find((f) => f.kind === 'stall')?.targets ?? [];
}

/** A mapper's sensor seed: from the scenario seed and its id, so a run is reproducible. */
function seedOf(seed: number, id: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function pick<T>(xs: readonly T[], prng: Prng): T {
  return xs[Math.floor(prng.next() * xs.length)] as T;
}

function shuffle<T>(xs: readonly T[], prng: Prng): T[] {
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(prng.next() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

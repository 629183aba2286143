/**
 * The dameso side's nodes, all in this process on their own connections: N mapper nodes whose
 * simulated sensor sits inside the bench's cell (observations go through the observer into the
 * series), optionally with the chunks service and the `bt` role for the backup arms, and a
 * requester node with the observe service.
 */
import path from 'node:path';
import { createSimulatedSensor, type SimulatedSensor, smoothField } from '../../../devices/sensors/index.js';
import { type ChunksService, createChunksService } from '../../../src/chunks/index.js';
import { alwaysYesGate } from '../../../src/intent/index.js';
import type { Service } from '../../../src/node/types.js';
import { createNode, type DamesoNode } from '../../../src/node.js';
import { createObserveService, MAPPER_ROLE, type ObserveService } from '../../../src/observe/index.js';
import type { View } from '../../../src/series/types.js';
import { BENCH_BOARD } from '../intents/config.js';
import { CELL, CELL_CENTRE, DURABILITY, GATE_LIMITERS, READINGS_PER_RESPONDER, SURVEY_DEADLINE_MS } from './config.js';

/** setInterval's largest delay: a sensor that only samples when told to. */
const NEVER_MS = 2 ** 31 - 1;
/** The requester's survey timer, s: far off (1e6 s fits setTimeout), rounds run on `surveyNow()`. */
const SURVEY_TIMER_OFF_S = 1_000_000;
const ROSTER_TIMEOUT_MS = 120_000;
const FIELD = smoothField({ base: 20, amplitude: 5, wavelengthDeg: 0.02 });

export interface Mapper {
  node: DamesoNode;
  sensor: SimulatedSensor;
  chunks?: ChunksService;
}

export interface MapperOptions {
  /** Sensor reading interval, ms; default: only the readings taken before the rounds. */
  sampleMs?: number;
  /** Readings taken at start, before the rounds. Default READINGS_PER_RESPONDER. */
  readings?: number;
  /** Chunks service options (the node also gets the `bt` role); default none. */
  chunks?: Parameters<typeof createChunksService>[0];
}

function startNode(
  url: string,
  id: string,
  root: string,
  roles: string[],
  services: Service[],
  views: View<unknown>[] = [],
): Promise<DamesoNode> {
  const node = createNode({
    views,
    id,
    roles,
    broker: url,
    dataDir: path.join(root, id),
    rosterQuietMs: 50,
    durability: DURABILITY,
    device: BENCH_BOARD,
    services,
    ...(GATE_LIMITERS ? {} : { gate: alwaysYesGate }),
  });
  return node.start().then(() => node);
}

async function startMapper(url: string, id: string, root: string, seed: number, o: MapperOptions): Promise<Mapper> {
  const sensor = createSimulatedSensor({
    field: FIELD,
    position: CELL_CENTRE,
    metric: 'temp',
    noiseSigma: 1,
    seed,
    intervalMs: o.sampleMs ?? NEVER_MS,
  });
  const observe = createObserveService({ drivers: [sensor], staticPosition: CELL_CENTRE });
  const chunks = o.chunks ? createChunksService(o.chunks) : undefined;
  const roles = chunks ? [MAPPER_ROLE, 'bt'] : [MAPPER_ROLE];
  const node = await startNode(url, id, root, roles, chunks ? [chunks, observe] : [observe]);
  for (let k = 0; k < (o.readings ?? READINGS_PER_RESPONDER); k++) sensor.sample();
  await node.series.flush();
  return { node, sensor, ...(chunks ? { chunks } : {}) };
}

/** N mappers, started 20 at a time (ids `<prefix>-i`). */
export async function startMappers(
  url: string,
  prefix: string,
  n: number,
  root: string,
  o: MapperOptions = {},
): Promise<Mapper[]> {
  const out: Mapper[] = [];
  for (let i = 0; i < n; i += 20) {
    const batch = Array.from({ length: Math.min(20, n - i) }, (_, k) =>
      startMapper(url, `${prefix}-${i + k}`, root, 100 + i + k, o),
    );
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

/** The last `want_observations` outcome the requester recorded, as its series has it. */
export interface LastOutcome {
  count: number;
  ms: number;
  closedBy: string;
  yes: number;
  no: number;
  silence: number;
}

export const LAST_OUTCOME_VIEW = 'bench.last_outcome';

const lastOutcomeView: View<LastOutcome> = {
  name: LAST_OUTCOME_VIEW,
  events: ['intent_outcome'],
  initial: () => ({ count: 0, ms: 0, closedBy: '', yes: 0, no: 0, silence: 0 }),
  apply(state, e) {
    if (e.kind !== 'want_observations') return state;
    const len = (x: unknown) => (Array.isArray(x) ? x.length : 0);
    return {
      count: state.count + 1,
      ms: Number(e.ms),
      closedBy: String(e.closedBy),
      yes: len(e.yes),
      no: len(e.no),
      silence: len(e.silence),
    };
  },
};

/**
 * A requester with the observe service and a survey loop over the bench's cell (its timer far off:
 * rounds run when `surveyNow()` asks); resolves once it sees all `n` mappers online.
 */
export async function startRequester(
  url: string,
  id: string,
  root: string,
  n: number,
): Promise<{ node: DamesoNode; observe: ObserveService }> {
  const observe = createObserveService({
    deadlineMs: SURVEY_DEADLINE_MS,
    metric: 'temp',
    survey: [CELL],
    surveyEveryS: SURVEY_TIMER_OFF_S,
  });
  const node = await startNode(url, id, root, [], [observe], [lastOutcomeView as View<unknown>]);
  const t0 = performance.now();
  while (node.roster.online().filter((p) => p.roles.includes(MAPPER_ROLE)).length < n) {
    if (performance.now() - t0 > ROSTER_TIMEOUT_MS) throw new Error(`roster: not all ${n} mappers seen`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { node, observe };
}

export async function stopAll(nodes: DamesoNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
}

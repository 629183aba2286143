/**
 * Part 2: what background backup costs the intent path. Two sets of BACKUP_RESPONDERS mappers
 * (mapper + `bt`, chunks service, sensors reading every BACKUP_SAMPLE_MS: entries keep coming in
 * both) take turns answering a requester's survey rounds, one set online at a time, blocks
 * alternating with the order swapped every pair: the `on` set backs its series up to K of its
 * peers while it runs, the `off` set does not. Each block starts its set (same ids and data dirs as
 * its last block: the series carry on, the backup resumes from its mark), runs rounds untimed for
 * one backup period, times rounds for BACKUP_BLOCK_MS and stops the set, so no backup work spills into an
 * `off` block.
 *
 * The backup: the chunks service's own (`replicate: K`, rounds every BACKUP_EVERY_MS, the tail
 * pushed at once: every round pushes what settled since the last), or with BENCH_BACKUP=standin a
 * loop calling `pushSeries()` on every node as often.
 */
import os from 'node:os';
import type { ChunksService, ChunksServiceOptions } from '../../../src/chunks/index.js';
import type { DamesoNode } from '../../../src/node.js';
import { MAPPER_ROLE, MAX_OBSERVATIONS_PER_ANSWER } from '../../../src/observe/index.js';
import { r2 } from '../intents/measure.js';
import {
  BACKUP_BLOCK_MS,
  BACKUP_BLOCKS,
  BACKUP_EVERY_MS,
  BACKUP_REPLICAS,
  BACKUP_RESPONDERS,
  BACKUP_SAMPLE_MS,
  CELL,
} from './config.js';
import { type Mapper, startMappers, startRequester, stopAll } from './nodes.js';
import { percentiles } from './survey.js';

const STAND_IN = process.env.BENCH_BACKUP === 'standin';
/**
 * Untimed rounds at the start of each block, ms: one backup period, so the backup (whose first
 * round runs one period after start) is in its stride when timing starts; the same in both arms.
 */
const BLOCK_SETTLE_MS = BACKUP_EVERY_MS;
const ROSTER_TIMEOUT_MS = 30_000;

/** A loop calling `pushSeries()` on each node every BACKUP_EVERY_MS (random phase), one at a time per node. */
function standInLoop(chunks: ChunksService[]): { stop(): Promise<void> } {
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<unknown>>();
  let running = true;
  const loop = (c: ChunksService, delayMs: number) => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!running) return;
      const p = c.pushSeries().catch(() => undefined);
      inFlight.add(p);
      void p.finally(() => {
        inFlight.delete(p);
        if (running) loop(c, BACKUP_EVERY_MS);
      });
    }, delayMs);
    timers.add(t);
  };
  for (const c of chunks) loop(c, Math.random() * BACKUP_EVERY_MS);
  return {
    async stop() {
      running = false;
      for (const t of timers) clearTimeout(t);
      await Promise.all([...inFlight]);
    },
  };
}

/** Backup work found in a set's series after `fromSeq` (one per node): `chunk_pushed` and `backup` entries. */
interface Work {
  chunks: number;
  bytes: number;
  chunksShortOfK: number;
  backupStates: Record<string, number>;
}

async function workSince(nodes: DamesoNode[], fromSeq: number[], into: Work): Promise<void> {
  for (const [i, node] of nodes.entries()) {
    for await (const e of node.series.read({ fromSeq: (fromSeq[i] ?? 0) + 1, event: ['chunk_pushed', 'backup'] })) {
      if (e.event === 'backup') {
        const k = `${e.state}${e.reason ? `:${e.reason}` : ''}`;
        into.backupStates[k] = (into.backupStates[k] ?? 0) + 1;
        continue;
      }
      into.chunks += 1;
      into.bytes += typeof e.size === 'number' ? e.size : 0;
      if (e.met !== true) into.chunksShortOfK += 1;
    }
  }
}

async function waitForMappers(requester: DamesoNode, ids: string[]): Promise<void> {
  const want = [...ids].sort().join(',');
  const t0 = performance.now();
  for (;;) {
    const online = requester.roster
      .online()
      .filter((p) => p.roles.includes(MAPPER_ROLE))
      .map((p) => p.node)
      .sort()
      .join(',');
    if (online === want) return;
    if (performance.now() - t0 > ROSTER_TIMEOUT_MS) throw new Error(`roster: ${online} online, wanted ${want}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface ArmSamples {
  roundMs: number[];
  declareMs: number[];
}

/** One set of mappers brought up for a block and down after it. */
function nodeSet(url: string, root: string, prefix: string, backupOn: boolean) {
  const n = BACKUP_RESPONDERS;
  const chunks: ChunksServiceOptions = { replicas: BACKUP_REPLICAS };
  if (backupOn && !STAND_IN) {
    chunks.replicate = BACKUP_REPLICAS;
    chunks.backup = { roundMs: BACKUP_EVERY_MS, partialAfterMs: 0 };
  }
  const work: Work = { chunks: 0, bytes: 0, chunksShortOfK: 0, backupStates: {} };
  let started = false;
  let up: { mappers: Mapper[]; fromSeq: number[]; loop?: { stop(): Promise<void> } } | undefined;
  return {
    ids: Array.from({ length: n }, (_, i) => `${prefix}-${i}`),
    work,
    async up() {
      // The first start fills each answer to its full size; later ones only add the sensor's readings.
      const readings = started ? 0 : MAX_OBSERVATIONS_PER_ANSWER;
      started = true;
      const mappers = await startMappers(url, prefix, n, root, { sampleMs: BACKUP_SAMPLE_MS, chunks, readings });
      const fromSeq = mappers.map((m) => m.node.series.lastSeq);
      const loop = backupOn && STAND_IN ? standInLoop(mappers.map((m) => m.chunks as ChunksService)) : undefined;
      up = { mappers, fromSeq, ...(loop ? { loop } : {}) };
    },
    /** `count`: add the block's backup work to `work`. */
    async down(count: boolean) {
      if (!up) return;
      const { mappers, fromSeq, loop } = up;
      up = undefined;
      await loop?.stop();
      const nodes = mappers.map((m) => m.node);
      await Promise.all(nodes.map((x) => x.series.flush()));
      if (count) await workSince(nodes, fromSeq, work);
      await stopAll(nodes);
    },
  };
}

async function timedRounds(observe: () => Promise<{ outcome: { elapsedMs: number } }>, into: ArmSamples) {
  const settled = performance.now() + BLOCK_SETTLE_MS;
  while (performance.now() < settled) await observe();
  const end = performance.now() + BACKUP_BLOCK_MS;
  while (performance.now() < end) {
    const t0 = performance.now();
    const res = await observe();
    into.roundMs.push(performance.now() - t0);
    into.declareMs.push(res.outcome.elapsedMs);
  }
}

const summary = (s: ArmSamples) => ({
  rounds: s.roundMs.length,
  round: percentiles(s.roundMs),
  declare_to_close: percentiles(s.declareMs),
});

function describeBackup(): string {
  return STAND_IN
    ? `stand-in (BENCH_BACKUP=standin): pushSeries() on every node every ${BACKUP_EVERY_MS} ms, K = ${BACKUP_REPLICAS}`
    : `chunks service option replicate: ${BACKUP_REPLICAS}, backup rounds every ${BACKUP_EVERY_MS} ms with the tail pushed at once (partialAfterMs 0)`;
}

export async function measureBackup(url: string, root: string) {
  const sets = { off: nodeSet(url, root, 'bk-off', false), on: nodeSet(url, root, 'bk-on', true) };
  const samples: Record<'off' | 'on', ArmSamples> = {
    off: { roundMs: [], declareMs: [] },
    on: { roundMs: [], declareMs: [] },
  };
  const warm: ArmSamples = { roundMs: [], declareMs: [] };
  await sets.off.up();
  const requester = await startRequester(url, 'bk-req', root, BACKUP_RESPONDERS);
  const observe = () => requester.observe.observe(CELL);
  const block = async (k: 'off' | 'on', measured: boolean) => {
    await sets[k].up();
    try {
      await waitForMappers(requester.node, sets[k].ids);
      await timedRounds(observe, measured ? samples[k] : warm);
    } finally {
      await sets[k].down(measured);
    }
  };
  const loadStart = os.loadavg()[0] ?? 0;
  try {
    await sets.off.down(false);
    // Warm-up: a block of each.
    await block('off', false);
    await block('on', false);
    for (let b = 0; b < BACKUP_BLOCKS; b++) {
      const order = b % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
      for (const k of order) await block(k, true);
    }
  } finally {
    await Promise.all([sets.off.down(false), sets.on.down(false)]);
    await stopAll([requester.node]);
  }
  const off = summary(samples.off);
  const on = summary(samples.on);
  const ratio = (f: 'round' | 'declare_to_close') => ({
    p50: r2(on[f].p50Ms / off[f].p50Ms),
    p90: r2(on[f].p90Ms / off[f].p90Ms),
    p99: r2(on[f].p99Ms / off[f].p99Ms),
  });
  return {
    backup: describeBackup(),
    backup_impl: STAND_IN ? 'stand-in' : 'replicate option',
    responders: BACKUP_RESPONDERS,
    intent: 'want_observations survey round (observe(cell)), one in flight',
    block_ms: BACKUP_BLOCK_MS,
    blocks_per_arm: BACKUP_BLOCKS,
    sample_every_ms: BACKUP_SAMPLE_MS,
    off,
    on,
    ratio_on_off: { round: ratio('round'), declare_to_close: ratio('declare_to_close') },
    backup_work_in_on_blocks: sets.on.work,
    load: [r2(loadStart), r2(os.loadavg()[0] ?? 0)],
  };
}

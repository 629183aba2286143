/**
 * A fleet worker: one process hosting many full nodes (each its own MQTT connection, client id,
 * session, series folder, limiters and handlers, built by `assembleNode` as `dameso node` builds
 * its one). What the worker shares between them is what a process has once: the CPU and memory
 * probe of the limiters, and one roster view kept by its own connection (shared-roster.ts).
 *
 * Driven over IPC by the harness (worker-protocol.ts): `start` brings the nodes up, paced at the
 * connect rate it is given, reporting each node's session; a usage sample goes up every second;
 * `stop` stops every node cleanly (offline presence, series closed) and exits.
 */
import { systemClock } from '../clock.js';
import { messageOf } from '../errors.js';
import { alwaysYesGate } from '../intent/index.js';
import { createLogger } from '../log.js';
import { assembleNode, createNode, type DamesoNode } from '../node/index.js';
import { sharedRoster } from './shared-roster.js';
import { assembleOptionsOf, type NodeCommon } from './spec-node.js';
import { type FromWorker, type ToWorker, type WorkerStart, workerClientId } from './worker-protocol.js';

/** Node starts under way at once in one worker, count (the connect rate paces them further). */
const MAX_STARTS_IN_FLIGHT = 32;
/** Usage samples sent to the harness, ms between. */
const SAMPLE_EVERY_MS = 1_000;
/**
 * A full collection runs when the heap has grown this many times past what the last one left
 * live. Every intent reaches each of hundreds of nodes and little of it lives on: left to itself
 * V8 lets such a heap grow several times past its live data before compacting, and the RSS with it.
 */
const HEAP_GROWTH_BEFORE_GC = 1.5;
/** The floor under which no collection is forced, MB. */
const MIN_HEAP_FOR_GC_MB = 64;

const send = (m: FromWorker): void => {
  process.send?.(m);
};

/** Resolves after `ms` on the system clock. */
const sleep = (ms: number): Promise<void> => new Promise((r) => systemClock.setTimeout(r, ms));

class Worker {
  private readonly nodes = new Map<string, DamesoNode>();
  private rosterNode: DamesoNode | undefined;
  private stopping = false;
  private readonly log = createLogger({ level: 'warn' });
  private sampler: ReturnType<typeof setInterval> | undefined;

  async start(m: WorkerStart): Promise<void> {
    const t0 = systemClock.monotonic();
    this.sampler = setInterval(() => this.sample(), SAMPLE_EVERY_MS);
    // The roster every node here reads: one subscription to the presence records for the worker.
    this.rosterNode = createNode({
      id: workerClientId(m.index),
      broker: m.broker,
      dataDir: m.rosterDataDir,
      announce: false,
      gate: alwaysYesGate,
      log: this.log,
      ...(m.passwords?.[workerClientId(m.index)] !== undefined
        ? { brokerPassword: m.passwords[workerClientId(m.index)] }
        : {}),
      ...(m.ca !== undefined ? { brokerCa: m.ca } : {}),
      ...(m.topicPrefix !== undefined ? { topicPrefix: m.topicPrefix } : {}),
    });
    await this.rosterNode.start();
    const roster = m.ownRosters
      ? undefined
      : sharedRoster(this.rosterNode.roster as Parameters<typeof sharedRoster>[0]);
    const gapMs = 1000 / m.connectPerS;
    const inFlight = new Set<Promise<void>>();
    for (const [i, spec] of m.specs.entries()) {
      if (this.stopping) break;
      while (inFlight.size >= MAX_STARTS_IN_FLIGHT) await Promise.race(inFlight);
      const due = t0 + i * gapMs - systemClock.monotonic();
      if (due > 0) await sleep(due);
      const common: NodeCommon = {
        broker: m.brokerFor?.[spec.id] ?? m.broker,
        ...(m.passwords?.[spec.id] !== undefined ? { password: m.passwords[spec.id] } : {}),
        ...(m.ca !== undefined ? { ca: m.ca } : {}),
        ...(m.topicPrefix !== undefined ? { topicPrefix: m.topicPrefix } : {}),
      };
      const p = this.startNode(assembleOptionsOf(spec, common), roster).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    const records = [this.rosterNode, ...this.nodes.values()].reduce((n, x) => n + x.roster.stats().records, 0);
    send({ type: 'ready', ms: Math.round(systemClock.monotonic() - t0), presenceRecords: records });
  }

  private async startNode(
    options: ReturnType<typeof assembleOptionsOf>,
    roster: ReturnType<typeof sharedRoster> | undefined,
  ): Promise<void> {
    const { node } = assembleNode({ ...options, ...(roster ? { roster } : {}), log: this.log });
    try {
      await node.start();
    } catch (err) {
      send({ type: 'failed', id: options.id, error: messageOf(err) });
      return;
    }
    this.nodes.set(node.id, node);
    send({ type: 'up', id: node.id, session: node.transport.session });
  }

  /** Live heap after the last forced collection, bytes. */
  private liveHeap = 0;

  /** Forces a full collection when the heap outgrew its live data (see HEAP_GROWTH_BEFORE_GC). */
  private compact(): void {
    const gc = (globalThis as { gc?: () => void }).gc;
    const used = process.memoryUsage().heapUsed;
    if (!gc || used < MIN_HEAP_FOR_GC_MB * 2 ** 20 || used < this.liveHeap * HEAP_GROWTH_BEFORE_GC) return;
    gc();
    this.liveHeap = process.memoryUsage().heapUsed;
  }

  private sample(): void {
    this.compact();
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    send({
      type: 'sample',
      up: this.nodes.size,
      rssMB: mem.rss / 2 ** 20,
      heapUsedMB: mem.heapUsed / 2 ** 20,
      cpuS: (cpu.user + cpu.system) / 1e6,
    });
  }

  /** No more node starts (a stop is coming). */
  halt(): void {
    this.stopping = true;
  }

  /** Stops every node (offline presence, series closed), then the roster connection. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.sampler);
    await Promise.all(
      [...this.nodes.values()].map((n) =>
        n.stop().catch((err: unknown) => this.log.warn({ err, node: n.id }, 'fleet worker: a node failed to stop')),
      ),
    );
    await this.rosterNode?.stop().catch(() => undefined);
  }
}

/**
 * Runs the worker in this process until the harness says stop; returns the clean stop (nodes, then
 * exit) for worker-main.ts to call when the harness goes away.
 */
export function runWorker(): () => void {
  const worker = new Worker();
  let started: Promise<void> = Promise.resolve();
  let stopping = false;
  const stopAndExit = (): void => {
    if (stopping) return;
    stopping = true;
    worker.halt();
    // Nodes still starting are stopped with the rest once their start settled.
    void started
      .then(() => worker.stop())
      .then(() => {
        if (!process.connected) process.exit(0);
        // Exit once the last message is out (an exit right after send() can drop it).
        process.send?.({ type: 'stopped' } satisfies FromWorker, undefined, {}, () => process.exit(0));
      });
  };
  process.on('message', (m: ToWorker) => {
    if (m.type === 'stop') return stopAndExit();
    started = worker.start(m).catch((err: unknown) => {
      process.stderr.write(`fleet worker ${m.index}: ${messageOf(err)}\n`);
      process.exit(1);
    });
  });
  return stopAndExit;
}

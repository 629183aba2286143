/**
 * Where the broker and the responders run; the requester always runs in the bench process.
 * `one`: everything in this process (all responders' work serialised on one thread). `procs`: the
 * broker and each responder in its own child process, as on the field where each responder is its
 * own board. Both sides of the comparison always share one layout.
 */
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { createBrokerHost } from '../../../broker/index.js';
import { type Usage, usageOf } from '../../../src/fleet/procs.js';
import { Children } from './children.js';
import { createBenchNode, startRawResponder } from './responders.js';
import { childRuntime } from './runtime.js';

/** A side's N responders, all ready. */
export interface Responders {
  /** Wall time from the first start to the last ready, ms. */
  readonly startMs: number;
  /** Summed over the responder processes (procs layout only). */
  usage?(): Usage;
  stop(): Promise<void>;
}

export interface Layout {
  readonly description: string;
  /** Extra facts for the JSON (how children run). */
  readonly facts: Record<string, unknown>;
  startBroker(): Promise<{ url: string; stop(): Promise<void> }>;
  startRaw(url: string, n: number): Promise<Responders>;
  /** N real nodes with the `bt` role, ids `res-N-i`, data under `root`. */
  startNodes(url: string, n: number, root: string): Promise<Responders>;
  /** Kills whatever still runs, removes scratch files (sync: for signal and exit handlers). */
  dispose(): void;
}

const nodeId = (n: number, i: number) => `res-${n}-${i}`;

/**
 * Children starting at once. Start-up is CPU-bound (loading modules, ~0.7 s CPU each): measured on
 * 2 shared cores, 100 children took 80-120 s per side whether started all at once (load ~100, which
 * stalls everyone else on the machine) or 8 at a time (load ~20).
 */
const START_PARALLEL = 4 * os.availableParallelism();

async function timed(start: () => Promise<Omit<Responders, 'startMs'>>): Promise<Responders> {
  const t0 = performance.now();
  const r = await start();
  return { ...r, startMs: Math.round(performance.now() - t0) };
}

export function oneProcessLayout(): Layout {
  return {
    description:
      'one process: dameso Aedes host + requester + N responders, each on its own TCP connection (TCP_NODELAY)',
    facts: {},
    startBroker: async () => {
      const host = createBrokerHost({ host: '127.0.0.1', port: 0, maxConnectionsPerIp: 100_000 });
      const { url } = await host.start();
      return { url, stop: () => host.stop() };
    },
    startRaw: (url, n) =>
      timed(async () => {
        const cs: Awaited<ReturnType<typeof startRawResponder>>[] = [];
        for (let i = 0; i < n; i++) cs.push(await startRawResponder(url, i));
        return { stop: async () => void (await Promise.all(cs.map((c) => c.endAsync(true)))) };
      }),
    startNodes: (url, n, root) =>
      timed(async () => {
        const nodes = Array.from({ length: n }, (_, i) =>
          createBenchNode(url, nodeId(n, i), ['bt'], path.join(root, nodeId(n, i))),
        );
        const batch = 20;
        for (let i = 0; i < n; i += batch) await Promise.all(nodes.slice(i, i + batch).map((x) => x.start()));
        return { stop: async () => void (await Promise.all(nodes.map((x) => x.stop()))) };
      }),
    dispose: () => undefined,
  };
}

/** `onDeath`: a child died mid-run (the bench cannot go on). */
export function procsLayout(onDeath: (err: Error) => void): Layout {
  const runtime = childRuntime();
  if (runtime.mode === 'tsx') {
    // Measured: ~1.5 s CPU and ~130 MB per child under tsx vs ~0.7 s and ~90 MB from dist/.
    process.stderr.write(`bench:intents: children run under tsx (${runtime.why}); slow to start at 100\n`);
  }
  const children = new Children(runtime, onDeath);
  const group = (argsOf: (i: number) => string[], n: number) =>
    timed(async () => {
      const cs: ChildProcess[] = [];
      let next = 0;
      const starter = async () => {
        while (next < n) cs.push((await children.start(argsOf(next++))).child);
      };
      await Promise.all(Array.from({ length: Math.min(n, START_PARALLEL) }, starter));
      return {
        usage: () =>
          cs.map((c) => usageOf(c.pid ?? 0)).reduce((a, u) => ({ rssMB: a.rssMB + u.rssMB, cpuS: a.cpuS + u.cpuS })),
        stop: () => children.stop(cs),
      };
    });
  return {
    description:
      'procs: one process per part: dameso Aedes host (TCP_NODELAY) in a child process, the requester in the bench process, each of the N responders in its own child process',
    facts: { children: runtime.mode, childrenWhy: runtime.why },
    startBroker: async () => {
      const { child, ready } = await children.start(['broker']);
      if (!ready.url) throw new Error('broker child gave no url');
      return { url: ready.url, stop: () => children.stop([child]) };
    },
    startRaw: (url, n) => group((i) => ['raw', url, String(i)], n),
    startNodes: (url, n, root) => group((i) => ['node', url, nodeId(n, i), path.join(root, nodeId(n, i))], n),
    dispose: () => {
      children.killAll();
      runtime.dispose();
    },
  };
}

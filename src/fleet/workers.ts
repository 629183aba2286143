/**
 * How the fleet hosts its nodes: in worker processes of K nodes each (worker.ts over IPC), or one
 * `dameso node` process per node. Both start every node on its own folders, report each node's
 * session, SIGKILL a host (a worker and all its nodes, or one node process) and restart it on the
 * same folders, read each host's RSS/CPU, and stop everything cleanly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { systemClock } from '../clock.js';
import { roundTo } from '../round-to.js';
import { type Proc, Procs, STOP_TIMEOUT_MS, usageOf } from './procs.js';
import type { FleetRuntime } from './runtime.js';
import type { NodeSpec } from './spec.js';
import { nodeArgsOf } from './spec-node.js';
import { type FromWorker, type WorkerSample, type WorkerStart, workerClientId } from './worker-protocol.js';

/** A starting worker none of whose nodes came up (or failed) for this long is failed, ms. */
const WORKER_STALL_MS = 60_000;

export interface Restart {
  id: string;
  /** The host that was SIGKILLed (worker index, or the node's index with one process per node). */
  host: number;
  pid: number;
  sessionBefore: number;
  sessionAfter: number;
  /** SIGKILL to ready again, ms. */
  downMs: number;
}

export interface HostUsage {
  host: number;
  pid: number;
  nodes: number;
  rssMB: number;
  cpuS: number;
  /** JS heap in use (workers only), MB. */
  heapUsedMB?: number;
}

export interface Hosting {
  readonly mode: 'workers' | 'procs';
  /** Hosts (workers, or node processes). */
  readonly hosts: number;
  /** Starts every node; resolves once all are up (rejects if one cannot start). */
  start(): Promise<void>;
  /** The host holding node `id`. */
  hostOf(id: string): number;
  /** SIGKILL host `index`, restart it on the same folders; its nodes' sessions before and after. */
  killHost(index: number): Promise<Restart[]>;
  /** Nodes up now. */
  live(): number;
  usage(): HostUsage[];
  /** Every node's session (as last reported). */
  sessions(): ReadonlyMap<string, number>;
  stop(): Promise<void>;
  /** SIGKILLs every child (sync: safe in exit handlers). */
  killAll(): void;
  /** Every pid started. */
  readonly pids: number[];
}

export interface HostingOptions {
  runtime: FleetRuntime;
  specs: NodeSpec[];
  broker: string;
  /** The broker URL a node uses (a stall proxy in front of the broker); default `broker`. */
  brokerFor?: (id: string) => string;
  /** Node id (and worker client id) → password, with the files `dameso node` reads them from. */
  credentials?: { passwords: Record<string, string>; passwordFiles: Record<string, string> };
  /** PEM text and the file it came from. */
  ca?: { pem: string; file: string };
  /** The fleet's topic prefix; default `dameso`. */
  topicPrefix?: string;
  /** Node connects per second, the whole fleet. */
  connectPerS: number;
  /** Called with every unexpected exit or failed node. */
  onFailure: (msg: string) => void;
  /** Called as each node comes up (for the progress bar). */
  onUp?: (id: string) => void;
  /** Workers only: each node keeps its own roster (to measure what the shared one saves). */
  ownRosters?: boolean;
}

interface WorkerHost {
  index: number;
  specs: NodeSpec[];
  child: ChildProcess;
  pid: number;
  exited: Promise<void>;
  expectedExit: boolean;
  up: number;
  stderr: string;
}

/** Nodes in workers of `perProcess` each (`groups`: the node specs of each worker). */
export class WorkerHosting implements Hosting {
  readonly mode = 'workers';
  readonly pids: number[] = [];
  private readonly workers: WorkerHost[] = [];
  private readonly sessions_ = new Map<string, number>();
  private readonly hostIndex = new Map<string, number>();
  /** Presence records received while the workers brought their nodes up (restarts included). */
  presenceRecords = 0;
  /** The newest sample of each worker (its heap: RSS and CPU are read from /proc). */
  private readonly samples = new Map<number, WorkerSample>();

  constructor(private readonly options: HostingOptions & { groups: NodeSpec[][]; dataDir: string }) {
    options.groups.forEach((g, i) => {
      for (const s of g) this.hostIndex.set(s.id, i);
    });
  }

  get hosts(): number {
    return this.options.groups.length;
  }

  async start(): Promise<void> {
    await Promise.all(this.options.groups.map((g, i) => this.startWorker(i, g)));
  }

  hostOf(id: string): number {
    return this.hostIndex.get(id) ?? -1;
  }

  private startWorker(index: number, specs: NodeSpec[]): Promise<WorkerHost> {
    const { options } = this;
    const child = spawn(process.execPath, [...options.runtime.workerArgs], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    const w: WorkerHost = {
      index,
      specs,
      child,
      pid: child.pid ?? -1,
      exited: new Promise((r) => child.once('exit', () => r())),
      expectedExit: false,
      up: 0,
      stderr: '',
    };
    this.workers[index] = w;
    this.pids.push(w.pid);
    child.stderr?.on('data', (d: Buffer) => {
      w.stderr = (w.stderr + d.toString()).slice(-2000);
    });
    const connectPerS = (options.connectPerS * specs.length) / options.specs.length;
    const start: WorkerStart = {
      type: 'start',
      index,
      specs,
      broker: options.broker,
      connectPerS,
      rosterDataDir: path.join(options.dataDir, workerClientId(index)),
      ...(options.brokerFor
        ? { brokerFor: Object.fromEntries(specs.map((s) => [s.id, options.brokerFor!(s.id)])) }
        : {}),
      ...(options.credentials ? { passwords: options.credentials.passwords } : {}),
      ...(options.ca ? { ca: options.ca.pem } : {}),
      ...(options.topicPrefix !== undefined ? { topicPrefix: options.topicPrefix } : {}),
      ...(options.ownRosters ? { ownRosters: true } : {}),
    };
    child.send(start);
    // Paced starts take specs / rate at least, and longer on a busy machine: a worker is failed
    // only when it stalls (no node up or failed for WORKER_STALL_MS beyond its pacing gap).
    const stallMs = WORKER_STALL_MS + 1000 / connectPerS;
    return new Promise((resolve, reject) => {
      const stalled = (): void =>
        reject(new Error(`fleet worker ${index}: no node came up for ${Math.round(stallMs / 1000)} s: ${w.stderr}`));
      let timer = setTimeout(stalled, stallMs);
      const progressed = (): void => {
        clearTimeout(timer);
        timer = setTimeout(stalled, stallMs);
      };
      child.on('message', (m: FromWorker) => {
        if (m.type === 'up' || m.type === 'failed') progressed();
        if (m.type === 'up') {
          w.up++;
          this.sessions_.set(m.id, m.session);
          options.onUp?.(m.id);
        } else if (m.type === 'failed') options.onFailure(`${m.id}: could not start: ${m.error}`);
        else if (m.type === 'ready') {
          this.presenceRecords += m.presenceRecords;
          clearTimeout(timer);
          resolve(w);
        } else if (m.type === 'sample') this.samples.set(index, m);
      });
      void w.exited.then(() => {
        clearTimeout(timer);
        w.up = 0;
        const why = `fleet worker ${index} (pid ${w.pid}) exited (${child.signalCode ?? child.exitCode})`;
        if (!w.expectedExit) options.onFailure(`${why} unexpectedly: ${w.stderr.trim()}`);
        reject(new Error(`${why} before it was ready: ${w.stderr.trim()}`));
      });
    });
  }

  async killHost(index: number): Promise<Restart[]> {
    const w = this.workers[index];
    if (!w) return [];
    w.expectedExit = true;
    const before = new Map(w.specs.map((s) => [s.id, this.sessions_.get(s.id) ?? 0]));
    const killedAt = systemClock.monotonic();
    w.child.kill('SIGKILL');
    await w.exited;
    const again = await this.startWorker(index, w.specs);
    const downMs = roundTo(systemClock.monotonic() - killedAt, 0);
    return w.specs.map((s) => ({
      id: s.id,
      host: index,
      pid: again.pid,
      sessionBefore: before.get(s.id) ?? 0,
      sessionAfter: this.sessions_.get(s.id) ?? 0,
      downMs,
    }));
  }

  live(): number {
    return this.workers.reduce((n, w) => n + (w ? w.up : 0), 0);
  }

  usage(): HostUsage[] {
    return this.workers.map((w) => ({
      host: w.index,
      pid: w.pid,
      nodes: w.specs.length,
      ...usageOf(w.pid),
      heapUsedMB: roundTo(this.samples.get(w.index)?.heapUsedMB ?? 0, 1),
    }));
  }

  sessions(): ReadonlyMap<string, number> {
    return this.sessions_;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        if (w.child.exitCode !== null || w.child.signalCode !== null) return;
        w.expectedExit = true;
        // A worker stops hundreds of nodes: give it the node stop bound, and as long again.
        const timer = setTimeout(() => w.child.kill('SIGKILL'), STOP_TIMEOUT_MS * 2);
        if (w.child.connected) w.child.send({ type: 'stop' });
        else w.child.kill('SIGTERM');
        await w.exited;
        clearTimeout(timer);
      }),
    );
  }

  killAll(): void {
    for (const w of this.workers) if (w && w.child.exitCode === null) w.child.kill('SIGKILL');
  }
}

const sessionOf = (line: string): number => Number(/\(session (\d+)/.exec(line)?.[1] ?? Number.NaN);

interface ProcNode {
  spec: NodeSpec;
  proc: Proc;
  session: number;
  expectedExit: boolean;
}

/** One `dameso node` process per node (a kill -9 kills exactly one node). */
export class ProcHosting implements Hosting {
  readonly mode = 'procs';
  private readonly procs: Procs;
  private readonly nodes: ProcNode[] = [];
  private readonly sessions_ = new Map<string, number>();

  constructor(private readonly options: HostingOptions) {
    this.procs = new Procs(options.runtime);
  }

  get pids(): number[] {
    return this.procs.pids;
  }

  get hosts(): number {
    return this.options.specs.length;
  }

  hostOf(id: string): number {
    return this.options.specs.findIndex((s) => s.id === id);
  }

  async start(): Promise<void> {
    const gapMs = 1000 / this.options.connectPerS;
    const t0 = systemClock.monotonic();
    await Promise.all(
      this.options.specs.map(async (spec, i) => {
        const due = t0 + i * gapMs - systemClock.monotonic();
        if (due > 0) await new Promise<void>((r) => systemClock.setTimeout(r, due));
        this.nodes[i] = await this.startNode(spec);
      }),
    );
  }

  private async startNode(spec: NodeSpec): Promise<ProcNode> {
    const { options } = this;
    const args = nodeArgsOf(spec, options.brokerFor?.(spec.id) ?? options.broker, {
      ...(options.credentials?.passwordFiles[spec.id] !== undefined
        ? { passwordFile: options.credentials.passwordFiles[spec.id] }
        : {}),
      ...(options.ca ? { ca: options.ca.file } : {}),
      ...(options.topicPrefix !== undefined ? { prefix: options.topicPrefix } : {}),
    });
    const proc = await this.procs.start(args, new RegExp(`^node ${spec.id} online \\(session \\d+`));
    const node: ProcNode = { spec, proc, session: sessionOf(proc.readyLine), expectedExit: false };
    this.sessions_.set(spec.id, node.session);
    options.onUp?.(spec.id);
    void proc.exited.then(({ code, signal }) => {
      if (!node.expectedExit) options.onFailure(`${spec.id} (pid ${proc.pid}) exited unexpectedly (${signal ?? code})`);
    });
    return node;
  }

  async killHost(index: number): Promise<Restart[]> {
    const node = this.nodes[index];
    if (!node) return [];
    node.expectedExit = true;
    const killedAt = systemClock.monotonic();
    node.proc.child.kill('SIGKILL');
    // Wait until reaped: a zombie's pid still holds the series lock.
    await node.proc.exited;
    const again = await this.startNode(node.spec);
    this.nodes[index] = again;
    return [
      {
        id: node.spec.id,
        host: index,
        pid: again.proc.pid,
        sessionBefore: node.session,
        sessionAfter: again.session,
        downMs: roundTo(systemClock.monotonic() - killedAt, 0),
      },
    ];
  }

  live(): number {
    return this.nodes.filter((n) => n && n.proc.child.exitCode === null && n.proc.child.signalCode === null).length;
  }

  usage(): HostUsage[] {
    return this.nodes.map((n, i) => ({ host: i, pid: n.proc.pid, nodes: 1, ...usageOf(n.proc.pid) }));
  }

  sessions(): ReadonlyMap<string, number> {
    return this.sessions_;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.nodes.map((n) => {
        n.expectedExit = true;
        return this.procs.stop(n.proc);
      }),
    );
  }

  killAll(): void {
    this.procs.killAll();
  }
}

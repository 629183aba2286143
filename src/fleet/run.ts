/**
 * `dameso fleet`'s run: a broker (a child process, or one given by URL), the fleet's nodes hosted
 * in worker processes of K nodes each (or one `dameso node` process per node), a requester node in
 * this process declaring intents at a steady rate, optionally a host SIGKILLed and restarted every
 * few seconds (same ids and folders: series reopen and session counters must go up), then a clean
 * stop and an integrity check. A sample of the outcomes and of every host's RSS/CPU is kept each
 * second; `onRunning` gets the hooks a fault schedule drives (kill, broker restart).
 */
import path from 'node:path';
import { systemClock } from '../clock.js';
import { messageOf } from '../errors.js';
import type { Outcome } from '../intent/types.js';
import { createLogger } from '../log.js';
import { createNode, type DamesoNode } from '../node/index.js';
import { roundTo } from '../round-to.js';
import { declarations, REQUESTER_ID } from './declarations.js';
import { checkFolders, type OutcomeCheck, type SeriesCheck } from './integrity.js';
import { type Proc, Procs, usageOf } from './procs.js';
import { fleetRuntime } from './runtime.js';
import type { NodeSpec } from './spec.js';
import { Tally, type TallySnapshot } from './tally.js';
import { type Hosting, type HostUsage, ProcHosting, type Restart, WorkerHosting } from './workers.js';

export type { HostUsage, Restart } from './workers.js';

/** Deadline of each declared intent, ms. */
export const DEADLINE_MS = 1_000;
/** Declarations are grouped per tick above this rate (timers finer than 10 ms are not kept). */
const MIN_TICK_MS = 10;
/** Per-second samples kept (the newest), count. */
const MAX_SAMPLES = 3_600;

export interface FleetOptions {
  nodes: number;
  roles: string[];
  /** The plan's node specs (a scenario); default `nodes` honest nodes with `roles`. */
  specs?: NodeSpec[];
  /** `embedded` or `mqtt://host:port` / `mqtts://…`. */
  broker: string;
  dataDir: string;
  durationS: number;
  rate: number;
  /** 0 = never kill. */
  killEveryS: number;
  /** Nodes per worker process; 0 = one `dameso node` process per node. */
  perProcess: number;
  /** Node connects per second, the whole fleet. */
  connectRate: number;
  /** One more worker hosting a single node, as the memory baseline (`marginalRssPerNodeMB`). */
  baselineWorker?: boolean;
  /** Workers only: every node keeps its own roster instead of its worker's shared one (a measurement). */
  ownRosters?: boolean;
  /** Node id → the broker URL it uses (a stall proxy); default the fleet's broker. */
  brokerFor?: (id: string, brokerUrl: string) => string;
  /** Per-client passwords (node ids, worker ids, the requester) and their files. */
  credentials?: { passwords: Record<string, string>; passwordFiles: Record<string, string>; usersFile: string };
  ca?: { pem: string; file: string };
  /** The fleet's topic prefix (its broker, nodes and requester); default `dameso`. */
  topicPrefix?: string;
  /** Called as nodes come up (a progress bar). */
  onStartProgress?: (up: number, total: number) => void;
  /** Called once a second while intents are declared. */
  onProgress?: (p: FleetProgress) => void;
  /** Called once every node is up and declaring begins: the hooks a fault schedule uses. */
  onRunning?: (control: FleetControl) => void;
  /** Aborting ends the declaring phase early (Ctrl-C); the stop and checks still run. */
  signal?: AbortSignal;
}

/** What a fault schedule may do to a running fleet. */
export interface FleetControl {
  /** `killNode` for a node id, `killWorker` for `worker-<i>`; resolves with every node id that died. */
  kill(target: string): Promise<string[]>;
  /** SIGKILLs the worker (or node process) `index` and restarts it on the same folders. */
  killWorker(index: number): Promise<Restart[]>;
  /** SIGKILLs the host of node `id` (its worker, or its process) and restarts it on the same folders. */
  killNode(id: string): Promise<Restart[]>;
  /** Restarts the embedded broker child on the same port; resolves once it listens again. */
  restartBroker(): Promise<void>;
  /** The broker URL (the nodes' own may differ: `brokerFor`). */
  readonly brokerUrl: string;
  /** The host (worker index, or node index with one process per node) of a node. */
  hostOf(id: string): number;
  samples(): readonly FleetSample[];
}

export interface FleetProgress extends TallySnapshot {
  seconds: number;
  live: number;
  restarts: number;
}

/** One second of the run. */
export interface FleetSample {
  /** s since the declaring began. */
  t: number;
  declared: number;
  closed: number;
  yes: number;
  no: number;
  silence: number;
  offline: number;
  live: number;
  hosts: HostUsage[];
  broker: { rssMB: number; cpuS: number } | null;
}

export interface FleetSummary extends TallySnapshot {
  ok: boolean;
  failures: string[];
  nodes: number;
  roles: string[];
  broker: string;
  children: string;
  /** `workers` (K nodes per process) or `procs` (one process per node). */
  hosting: 'workers' | 'procs';
  hosts: number;
  perProcess: number;
  connectRate: number;
  dataDir: string;
  seconds: number;
  /** From the first node start to every node up, ms. */
  startMs: number;
  /** Presence records the workers' connections received while the nodes came up (null with one process per node). */
  presenceRecordsAtStart: number | null;
  restarts: Restart[];
  series: SeriesCheck[];
  requesterOutcomes: OutcomeCheck | null;
  /** RSS per node just before the stop, MB (a worker's RSS shared over its nodes). */
  nodeRssMB: { avg: number; max: number };
  /** Each host just before the stop. */
  hostUsage: HostUsage[];
  /** (RSS of the K-node workers − their count × the one-node worker's) / their nodes beyond one each, MB; null without a baseline worker. */
  marginalRssPerNodeMB: number | null;
  brokerRssMB: number | null;
  brokerCpuS: number | null;
  /** This process's user+system CPU over the run, s. */
  harnessCpuS: number;
  samples: FleetSample[];
  /** The users file of generated credentials (hand it to the broker), if any. */
  usersFile: string | null;
  /** Every child pid started (all gone when the run returns). */
  pids: number[];
}

/** Every node's spec: `nodes` honest nodes with `roles`, folders under `dataDir`. */
export function defaultSpecs(options: Pick<FleetOptions, 'nodes' | 'roles' | 'dataDir'>): NodeSpec[] {
  return Array.from({ length: options.nodes }, (_, i) => {
    const id = `fleet-${i}`;
    return { id, roles: [...options.roles], dataDir: path.join(options.dataDir, id), behaviour: 'honest' as const };
  });
}

/** The specs dealt to workers of `perProcess` each; with `baseline`, the last node alone in its own. */
export function workerGroups(specs: readonly NodeSpec[], perProcess: number, baseline: boolean): NodeSpec[][] {
  const main = baseline && specs.length > 1 ? specs.slice(0, -1) : [...specs];
  const groups: NodeSpec[][] = [];
  for (let i = 0; i < main.length; i += perProcess) groups.push(main.slice(i, i + perProcess));
  if (main.length < specs.length) groups.push(specs.slice(-1));
  return groups;
}

/** Marginal RSS of a node: K-node workers against the one-node worker of the same run. */
export function marginalRss(hosts: readonly HostUsage[]): number | null {
  const one = hosts.filter((h) => h.nodes === 1);
  const many = hosts.filter((h) => h.nodes > 1);
  if (one.length === 0 || many.length === 0) return null;
  const base = one.reduce((a, h) => a + h.rssMB, 0) / one.length;
  const extra = many.reduce((a, h) => a + h.rssMB - base, 0);
  const beyondFirst = many.reduce((a, h) => a + h.nodes - 1, 0);
  return roundTo(extra / beyondFirst, 3);
}

export async function runFleet(options: FleetOptions): Promise<FleetSummary> {
  return new FleetRun(options).run();
}

class FleetRun {
  private readonly runtime = fleetRuntime();
  private readonly procs = new Procs(this.runtime);
  private readonly failures: string[] = [];
  private readonly tally = new Tally();
  private readonly declaredIds = new Set<string>();
  private readonly pending = new Set<PromiseLike<Outcome>>();
  private readonly restarts: Restart[] = [];
  private readonly samples: FleetSample[] = [];
  private readonly specs: NodeSpec[];
  private readonly t0 = systemClock.monotonic();
  private declareT0 = this.t0;
  private hosting: Hosting | undefined;
  private broker: Proc | undefined;
  private brokerPort = 0;
  private requester: DamesoNode | undefined;
  private brokerUrl: string;
  private startMs = 0;
  private stopping = false;
  /** The requester's first seq of this run (a reused --data folder holds earlier runs). */
  private fromSeq = 0;
  private end = { nodeRssMB: { avg: 0, max: 0 }, hostUsage: [] as HostUsage[], brokerRssMB: null as number | null };
  /** Ctrl-C came while the nodes were starting: only those that came up are checked. */
  private startCut = false;
  /** One restart at a time (a kill schedule and a fault may ask together). */
  private killing: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: FleetOptions) {
    this.specs = options.specs ?? defaultSpecs(options);
    this.brokerUrl = options.broker;
  }

  async run(): Promise<FleetSummary> {
    const options = this.options;
    const killAll = (): void => {
      this.procs.killAll();
      this.hosting?.killAll();
    };
    // A harness that exits any way (an exception, process.exit) takes its children with it.
    process.on('exit', killAll);
    const cpu0 = process.cpuUsage();
    let closedIds: ReadonlySet<string> = new Set();
    let snap: TallySnapshot = this.tally.snapshot();
    try {
      await this.startAll();
      if (!options.signal?.aborted) await this.declarePhase();
    } catch (err) {
      this.failures.push(messageOf(err));
    } finally {
      this.stopping = true;
      // What closed before the requester stops (intents it cuts short are not part of the check).
      closedIds = new Set(this.tally.closedIds);
      snap = this.tally.snapshot();
      await this.stopAll();
      killAll();
      process.off('exit', killAll);
    }
    return this.summary(snap, closedIds, process.cpuUsage(cpu0));
  }

  private async startAll(): Promise<void> {
    const options = this.options;
    if (options.broker === 'embedded') await this.startBroker(0);
    const common = {
      runtime: this.runtime,
      specs: this.specs,
      broker: this.brokerUrl,
      ...(options.brokerFor ? { brokerFor: (id: string) => options.brokerFor!(id, this.brokerUrl) } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.topicPrefix !== undefined ? { topicPrefix: options.topicPrefix } : {}),
      connectPerS: options.connectRate,
      onFailure: (msg: string) => {
        if (!this.stopping) this.failures.push(msg);
      },
      onUp: () => options.onStartProgress?.(this.hosting?.live() ?? 0, this.specs.length),
    };
    this.hosting =
      options.perProcess > 0
        ? new WorkerHosting({
            ...common,
            groups: workerGroups(this.specs, options.perProcess, options.baselineWorker === true),
            dataDir: options.dataDir,
            ...(options.ownRosters ? { ownRosters: true } : {}),
          })
        : new ProcHosting(common);
    const spawnStart = systemClock.monotonic();
    // Ctrl-C while a large fleet comes up stops it there (the workers stop the nodes already up).
    const starting = this.hosting.start();
    const aborted = new Promise<void>((resolve) => options.signal?.addEventListener('abort', () => resolve()));
    await Promise.race([starting, aborted]);
    if (options.signal?.aborted) {
      starting.catch(() => undefined);
      this.startCut = true;
      return;
    }
    this.startMs = roundTo(systemClock.monotonic() - spawnStart, 0);
    const password = options.credentials?.passwords[REQUESTER_ID];
    this.requester = createNode({
      id: REQUESTER_ID,
      broker: this.brokerUrl,
      dataDir: path.join(options.dataDir, REQUESTER_ID),
      log: createLogger({ level: 'warn' }),
      ...(password !== undefined ? { brokerPassword: password } : {}),
      ...(options.ca ? { brokerCa: options.ca.pem } : {}),
      ...(options.topicPrefix !== undefined ? { topicPrefix: options.topicPrefix } : {}),
    });
    await this.requester.start();
    this.fromSeq = this.requester.series.lastSeq + 1;
  }

  /** The embedded broker child, on `port` (0: any; a restart reuses the first one's). */
  private async startBroker(port: number): Promise<void> {
    const options = this.options;
    const args = ['broker', '--host', '127.0.0.1', '--port', String(port), '--json', '--stats-ms', '0'];
    // Every node connects from this machine's one address: room for all of them (and their
    // restarts after a kill) under the per-address limit meant for remote boards.
    const room = String(localConnectionRoom(this.specs.length));
    args.push('--max-connections', room, '--max-connections-per-ip', room);
    if (options.credentials) args.push('--auth-file', options.credentials.usersFile);
    if (options.topicPrefix !== undefined) args.push('--prefix', options.topicPrefix);
    const broker = await this.procs.start(args, /"event":"listening"/);
    const at = JSON.parse(broker.readyLine) as { host: string; port: number };
    this.brokerPort = at.port;
    this.brokerUrl = `mqtt://${at.host}:${at.port}`;
    this.broker = broker;
    void broker.exited.then(({ code, signal }) => {
      if (!this.stopping && this.broker === broker) {
        this.failures.push(`the broker exited unexpectedly (${signal ?? code})`);
      }
    });
  }

  private control(): FleetControl {
    const run = this;
    return {
      kill: async (target) => {
        const w = /^worker-(\d+)$/.exec(target);
        const r = w ? await this.killWorker(Number(w[1])) : await this.killNode(target);
        return r.map((x) => x.id);
      },
      killWorker: (i) => this.killWorker(i),
      killNode: (id) => this.killNode(id),
      restartBroker: () => this.restartBroker(),
      get brokerUrl() {
        return run.brokerUrl;
      },
      hostOf: (id) => this.hosting?.hostOf(id) ?? -1,
      samples: () => this.samples,
    };
  }

  private killNode(id: string): Promise<Restart[]> {
    const host = this.hosting?.hostOf(id) ?? -1;
    if (host < 0) return Promise.reject(new Error(`no node ${id} in this fleet`));
    return this.killWorker(host);
  }

  private killWorker(index: number): Promise<Restart[]> {
    const hosting = this.hosting;
    if (!hosting || index < 0 || index >= hosting.hosts) {
      return Promise.reject(new Error(`no host ${index} in this fleet`));
    }
    const next = this.killing.then(async () => {
      if (this.stopping) return [];
      const r = await hosting.killHost(index);
      this.restarts.push(...r);
      for (const x of r) {
        if (!(x.sessionAfter > x.sessionBefore)) {
          this.failures.push(`${x.id} restarted with session ${x.sessionAfter}, not above ${x.sessionBefore}`);
        }
      }
      return r;
    });
    this.killing = next.catch(() => undefined);
    return next;
  }

  private async restartBroker(): Promise<void> {
    const broker = this.broker;
    if (!broker) throw new Error('the broker is not the embedded one: it cannot be restarted from here');
    this.broker = undefined;
    broker.child.kill('SIGKILL');
    await broker.exited;
    await this.startBroker(this.brokerPort);
  }

  private async declarePhase(): Promise<void> {
    const options = this.options;
    this.declareT0 = systemClock.monotonic();
    const declareTimer = this.startDeclaring();
    const killTimer =
      options.killEveryS > 0
        ? systemClock.setInterval(() => {
            const hosts = this.hosting?.hosts ?? 0;
            this.killWorker(Math.floor(Math.random() * hosts)).catch((err: unknown) => {
              this.failures.push(`restart failed: ${messageOf(err)}`);
            });
          }, options.killEveryS * 1000)
        : undefined;
    const sampleTimer = systemClock.setInterval(() => this.sample(), 1000);
    options.onRunning?.(this.control());
    await this.untilDuration();
    systemClock.clearInterval(declareTimer);
    systemClock.clearInterval(killTimer);
    systemClock.clearInterval(sampleTimer);
    await this.killing;
    // Every declared intent closes by its deadline: wait for them (bounded) before stopping anything.
    await Promise.race([
      Promise.allSettled([...this.pending]),
      new Promise<void>((r) => systemClock.setTimeout(r, DEADLINE_MS + 2_000)),
    ]);
    this.measureEnd();
  }

  private untilDuration(): Promise<void> {
    const options = this.options;
    return new Promise<void>((resolve) => {
      // A Ctrl-C while the nodes were starting has already fired: stop at once.
      if (options.signal?.aborted) return resolve();
      const timer = systemClock.setTimeout(resolve, options.durationS * 1000);
      options.signal?.addEventListener('abort', () => {
        systemClock.clearTimeout(timer);
        resolve();
      });
    });
  }

  private startDeclaring(): ReturnType<typeof systemClock.setInterval> {
    const options = this.options;
    const declarer = this.requester!;
    const kinds = declarations(options.roles, () =>
      declarer.roster
        .online()
        .filter((p) => p.roles.includes('bt') && p.node !== REQUESTER_ID)
        .map((p) => p.node),
    );
    const tickMs = Math.max(MIN_TICK_MS, 1000 / options.rate);
    let credit = 0;
    let k = 0;
    return systemClock.setInterval(() => {
      credit += (options.rate * tickMs) / 1000;
      for (; credit >= 1; credit--) {
        const { kind, subject, body, to } = kinds[k++ % kinds.length]!();
        try {
          const intent = declarer.declare(kind, {
            subject,
            deadlineMs: DEADLINE_MS,
            ...(body ? { body } : {}),
            ...(to ? { to } : {}),
          });
          this.declaredIds.add(intent.id);
          this.tally.declared();
          const p = intent.then((out) => {
            this.tally.closed(out);
            this.pending.delete(p);
            return out;
          });
          this.pending.add(p);
        } catch (err) {
          this.failures.push(`declare failed: ${messageOf(err)}`);
          credit = 0;
        }
      }
    }, tickMs);
  }

  private sample(): void {
    const snap = this.tally.snapshot();
    const live = this.hosting?.live() ?? 0;
    const s: FleetSample = {
      t: roundTo((systemClock.monotonic() - this.declareT0) / 1000, 1),
      declared: snap.declared,
      closed: snap.closed,
      yes: snap.yes,
      no: snap.no,
      silence: snap.silence,
      offline: snap.offline,
      live,
      hosts: this.hosting?.usage() ?? [],
      broker: this.broker ? usageOf(this.broker.pid) : null,
    };
    this.samples.push(s);
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
    this.options.onProgress?.({
      ...snap,
      seconds: roundTo((systemClock.monotonic() - this.t0) / 1000, 1),
      live,
      restarts: this.restarts.length,
    });
  }

  private measureEnd(): void {
    const hostUsage = this.hosting?.usage() ?? [];
    const perNode = hostUsage.map((h) => h.rssMB / Math.max(1, h.nodes));
    const total = hostUsage.reduce((a, h) => a + h.rssMB, 0);
    this.end = {
      hostUsage: hostUsage.map((h) => ({ ...h, rssMB: roundTo(h.rssMB, 1), cpuS: roundTo(h.cpuS, 1) })),
      nodeRssMB: { avg: roundTo(total / Math.max(1, this.specs.length), 2), max: roundTo(Math.max(0, ...perNode), 2) },
      brokerRssMB: this.broker ? roundTo(usageOf(this.broker.pid).rssMB, 1) : null,
    };
  }

  private async stopAll(): Promise<void> {
    await this.killing;
    await this.requester?.stop().catch((err: unknown) => this.failures.push(`requester stop: ${String(err)}`));
    await this.hosting?.stop();
    if (this.broker) await this.procs.stop(this.broker);
  }

  private async summary(
    snap: TallySnapshot,
    closedIds: ReadonlySet<string>,
    cpu: NodeJS.CpuUsage,
  ): Promise<FleetSummary> {
    const { options, failures } = this;
    const { series, requesterOutcomes } = await checkFolders(
      options.dataDir,
      this.specs.map((s) => s.id).filter((id) => !this.startCut || this.hosting?.sessions().has(id)),
      failures,
      this.requester && { id: REQUESTER_ID, declared: this.declaredIds, closed: closedIds, fromSeq: this.fromSeq },
    );
    if (snap.closed > snap.declared) failures.push(`closed ${snap.closed} > declared ${snap.declared}`);
    if (snap.overCounted > 0) failures.push(`${snap.overCounted} intent(s) with more answers than expected peers`);
    const lastBroker = [...this.samples].reverse().find((s) => s.broker)?.broker;
    return {
      ok: failures.length === 0,
      failures,
      nodes: this.specs.length,
      roles: options.roles,
      broker: this.brokerUrl,
      children: `${this.runtime.mode} (${this.runtime.why})`,
      hosting: this.hosting?.mode ?? (options.perProcess > 0 ? 'workers' : 'procs'),
      hosts: this.hosting?.hosts ?? 0,
      perProcess: options.perProcess,
      connectRate: options.connectRate,
      dataDir: options.dataDir,
      seconds: roundTo((systemClock.monotonic() - this.t0) / 1000, 1),
      ...snap,
      startMs: this.startMs,
      presenceRecordsAtStart: this.hosting instanceof WorkerHosting ? this.hosting.presenceRecords : null,
      restarts: this.restarts,
      series,
      requesterOutcomes,
      ...this.end,
      marginalRssPerNodeMB: marginalRss(this.end.hostUsage),
      brokerCpuS: lastBroker ? roundTo(lastBroker.cpuS, 1) : null,
      harnessCpuS: roundTo((cpu.user + cpu.system) / 1e6),
      samples: this.samples,
      usersFile: options.credentials?.usersFile ?? null,
      pids: [...this.procs.pids, ...(this.hosting?.pids ?? [])],
    };
  }
}

/** Connections a fleet of `nodes` on one machine needs from its one address, with room for restarts. */
function localConnectionRoom(nodes: number): number {
  return Math.max(64, nodes * 2 + 16);
}

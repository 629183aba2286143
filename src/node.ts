/**
 * The composition root: one node = series + transport + presence + intents (+ services: chunks,
 * observe…), with `start()` / `stop()`. Nothing here does I/O before `start()`.
 */
import { join } from 'node:path';
import { systemClock } from './clock.js';
import { ConfigError } from './errors.js';
import { KIND_ROLES } from './intent/constants.js';
import { NotStartedError } from './intent/errors.js';
import { alwaysYesGate } from './intent/gate.js';
import { createIntents, type StartableIntents, withAnswerBehaviour } from './intent/index.js';
import type { DeclareOptions, Gate } from './intent/types.js';
import type { NodeLimiters } from './limiters/create.js';
import { seriesOptionsFor, servicesUsedBytes, startNodeLimiters } from './limiters/for-node.js';
import { limitersView } from './limiters/view.js';
import { silentLogger } from './log.js';
import { DEFAULT_BROKER_URL, SERIES_SUBDIR } from './node/constants.js';
import { type EmbeddedBroker, startEmbeddedBroker } from './node/embedded.js';
import type {
  BackgroundPressure,
  DamesoNode,
  NodeComponents,
  NodeOptions,
  NodeStats,
  ServiceInstance,
} from './node/types.js';
import { createRoster, type RosterDeps, rosterView, type StartableRoster } from './presence/index.js';
import { createTopics, isNodeId } from './protocol/index.js';
import { createSeries } from './series/index.js';
import type { Series, View } from './series/types.js';
import { statusView } from './status/index.js';
import {
  connectionView,
  createTransport,
  epochView,
  StartAbortedError,
  sessionView,
  type Transport,
} from './transport/index.js';

export * from './node/constants.js';
export type * from './node/types.js';

export function createNode(options: NodeOptions): DamesoNode {
  if (!isNodeId(options.id)) throw new ConfigError('id', `"${options.id}" must match [A-Za-z0-9_-]{1,64}`);
  if (typeof options.dataDir !== 'string' || options.dataDir === '') throw new ConfigError('dataDir', 'is required');
  // A role no kind is served by (a typo) would leave the node answering nothing: refuse it. Known =
  // the v1 roles plus those of custom kinds and of the handlers given.
  const known = new Set([
    ...Object.values(KIND_ROLES),
    ...Object.values(options.kindRoles ?? {}),
    ...(options.handlers ?? []).map((h) => h.role),
    ...(options.services ?? []).flatMap((s) => (s.handlers ?? []).map((h) => h.role)),
  ]);
  for (const r of options.roles ?? []) {
    if (!/^[a-z_]{1,32}$/.test(r))
      throw new ConfigError('roles', `role "${r}" must match [a-z_]{1,32} (e.g. bt, mapper)`);
    if (!known.has(r)) throw new ConfigError('roles', `unknown role "${r}"; known roles: ${[...known].join(', ')}`);
  }
  return new Node(options);
}

class Node implements DamesoNode {
  readonly id: string;
  readonly roles: readonly string[];
  brokerUrl: string;
  gate: Gate = alwaysYesGate;
  private series_: Series | undefined;
  private transport_: Transport | undefined;
  private roster_: StartableRoster | undefined;
  private intents_: StartableIntents | undefined;
  private broker: EmbeddedBroker | undefined;
  private limiters: NodeLimiters | undefined;
  private readonly instances: Array<[string, ServiceInstance]> = [];
  private keepAlive: NodeJS.Timeout | undefined;
  /** The series write or fsync that failed (the series takes nothing more until the node restarts). */
  seriesFailure: Error | undefined;
  private state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  /** stop() was called while start() ran. */
  private abortRequested = false;
  /** Settles when start() is done (either way), so stop() can wait for its clean-up. */
  private startRun: Promise<void> = Promise.resolve();

  constructor(private readonly options: NodeOptions) {
    this.id = options.id;
    this.roles = [...(options.roles ?? [])];
    this.brokerUrl = options.broker ?? DEFAULT_BROKER_URL;
  }

  get series(): Series {
    return must(this.series_, 'series');
  }
  get transport(): Transport {
    return must(this.transport_, 'transport');
  }
  get roster(): StartableRoster {
    return must(this.roster_, 'roster');
  }
  get intents(): StartableIntents {
    return must(this.intents_, 'intents');
  }
  /** The broker this node runs in its process (`broker: 'embedded'`); undefined otherwise. */
  get embeddedBroker(): Pick<EmbeddedBroker, 'url' | 'httpUrl' | 'stats'> | undefined {
    return this.broker;
  }
  get services(): Readonly<Record<string, ServiceInstance>> {
    return Object.fromEntries(this.instances);
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new ConfigError('start', 'a node starts once; create a new one to start again');
    this.state = 'starting';
    // A running node keeps its process alive, like a server: the injected clock's timers are
    // unref'd, and while the first append waits on a group-commit timer there is no socket yet.
    this.keepAlive = setInterval(() => {}, KEEP_ALIVE_MS);
    // stop() during the last steps (roster, services): they are done, so stop the whole node.
    const run = this.startParts().then(() => this.checkNotAborted());
    this.startRun = run.then(
      () => undefined,
      () => undefined,
    );
    try {
      await run;
      this.state = 'running';
    } catch (err) {
      await this.stopParts().catch(() => undefined);
      throw err;
    }
  }

  /** Between start steps: stop() was called, give up (what started is stopped by start()). */
  private checkNotAborted(): void {
    if (this.abortRequested) throw new StartAbortedError(this.brokerUrl);
  }

  private async startParts(): Promise<void> {
    const o = this.options;
    const clock = o.clock ?? systemClock;
    const log = (o.log ?? silentLogger).child({ node: this.id });
    const services = o.services ?? [];
    if (this.brokerUrl === 'embedded') {
      this.broker = await startEmbeddedBroker({
        port: o.embeddedPort ?? 0,
        ...(o.embeddedHost !== undefined ? { host: o.embeddedHost } : {}),
        log,
        ...(o.topicPrefix !== undefined ? { topicPrefix: o.topicPrefix } : {}),
        ...(o.embeddedHttp !== undefined ? { http: o.embeddedHttp } : {}),
      });
      this.brokerUrl = this.broker.url;
    }
    const views: View<unknown>[] = [
      sessionView as View<unknown>,
      epochView as View<unknown>,
      connectionView as View<unknown>,
      // The newest survey and backup entries, for `dameso status` and `/status`.
      statusView as View<unknown>,
      rosterView as View<unknown>,
      // The limiter history (thresholds in force, tallies, recent NOs) when the node's limiters gate it.
      ...(o.gate === undefined ? [limitersView as View<unknown>] : []),
      ...(o.views ?? []),
      ...services.flatMap((s) => s.views ?? []),
    ];
    const series = createSeries({
      ...seriesOptionsFor(o.device),
      ...(o.series ?? {}),
      dir: join(o.dataDir, SERIES_SUBDIR),
      durability: o.durability ?? 'batch',
      views,
      clock,
      log,
      // Decisions, outcomes and peer entries are recorded without awaiting their commit: a failed
      // write or fsync is heard here, once (every later write then throws the same typed error).
      onFailure: (err) => {
        this.seriesFailure = err;
        log.error({ err }, 'series: a write or fsync failed; nothing more is written until the node restarts');
      },
    });
    this.series_ = series;
    await series.open();
    this.checkNotAborted();
    const topics = createTopics(o.topicPrefix);
    const transport = createTransport({
      id: this.id,
      url: this.brokerUrl,
      roles: this.roles,
      topics,
      series,
      clock,
      log,
      ...pick(o, [
        'caps',
        'announce',
        'keepaliveS',
        'startTimeoutMs',
        'reconnectMinMs',
        'reconnectMaxMs',
        'onIdTaken',
        'outboxMaxRecords',
      ]),
      ...(o.brokerPassword !== undefined ? { password: o.brokerPassword } : {}),
      ...(o.brokerUsername !== undefined ? { username: o.brokerUsername } : {}),
      ...(o.brokerCa !== undefined ? { ca: o.brokerCa } : {}),
    });
    this.transport_ = transport;
    const rosterDeps: RosterDeps = {
      self: this.id,
      transport,
      series,
      clock,
      log,
      ...(o.rosterQuietMs !== undefined ? { quietMs: o.rosterQuietMs } : {}),
      ...(o.rosterBarrier !== undefined ? { barrier: o.rosterBarrier } : {}),
      ...(o.rosterMaxWaitMs !== undefined ? { maxWaitMs: o.rosterMaxWaitMs } : {}),
    };
    const roster = o.roster ? o.roster(rosterDeps) : createRoster(rosterDeps);
    this.roster_ = roster;
    let gate: Gate = alwaysYesGate;
    const gateRef: Gate = {
      decide: (intent) => gate.decide(intent),
      intentSeen: (intent) => gate.intentSeen(intent),
    };
    const handlers = withAnswerBehaviour(
      [...(o.handlers ?? []), ...services.flatMap((s) => s.handlers ?? [])],
      o.answerBehaviour,
      clock,
    );
    const intents = createIntents({
      self: this.id,
      roles: this.roles,
      transport,
      roster,
      series,
      clock,
      log,
      gate: gateRef,
      handlers,
      ...pick(o, ['kindRoles', 'maxPending', 'lateKeepMs', 'maxInFlight']),
    });
    this.intents_ = intents;
    const components: NodeComponents = {
      id: this.id,
      roles: this.roles,
      series,
      transport,
      roster,
      intents,
      clock,
      log,
      dataDir: o.dataDir,
      pressure: () => (this.limiters ? limiterPressure(this.limiters) : undefined),
      limiterReadout: () => this.limiters && { board: this.limiters.board.board, values: this.limiters.gate.values() },
    };
    if (o.gate !== undefined) gate = typeof o.gate === 'function' ? await o.gate(components) : o.gate;
    else {
      // Every node gates its answer side with its limiters, built from its board profile.
      this.limiters = await startNodeLimiters(components, {
        device: o.device,
        thresholds: o.limits,
        extraUsedBytes: () => servicesUsedBytes(this.instances),
      });
      gate = this.limiters.gate;
    }
    this.gate = gate;
    for (const s of services) this.instances.push([s.name, await s.create(components)]);
    this.checkNotAborted();
    await transport.start();
    await roster.start();
    await intents.start();
    // A node declares only once it holds the retained roster (docs/protocol.md §6).
    await roster.ready();
    for (const [, inst] of this.instances) await inst.start?.();
  }

  /**
   * Stops a running node. Called while start() runs (Ctrl-C while the broker is awaited), it makes
   * start() fail at once with StartAbortedError and resolves once start() cleaned up.
   */
  async stop(): Promise<void> {
    if (this.state === 'starting') {
      this.abortRequested = true;
      this.transport_?.abortStart?.();
      await this.startRun;
      return;
    }
    await this.stopParts();
  }

  private async stopParts(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'new') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopped';
    clearInterval(this.keepAlive);
    for (const [name, inst] of [...this.instances].reverse()) {
      try {
        await inst.stop?.();
      } catch (err) {
        this.options.log?.warn({ err, service: name }, 'node: a service failed to stop');
      }
    }
    await this.intents_?.stop();
    await this.limiters?.stop();
    await this.roster_?.stop();
    await this.transport_?.stop();
    await this.series_?.close();
    await this.broker?.stop();
  }

  declare(kind: string, options?: DeclareOptions) {
    return this.intents.declare(kind, options);
  }

  stats(): NodeStats {
    return { transport: this.transport.stats(), roster: this.roster.stats(), intents: this.intents.stats() };
  }
}

const KEEP_ALIVE_MS = 2 ** 30;

/** The answer side's CPU and memory rules, read for background work (no intent: the plain values). */
function limiterPressure(l: NodeLimiters): BackgroundPressure | undefined {
  const t = l.gate.thresholds;
  if (l.limiters.memory.value() < t.memoryLowBelow) return 'memory_low';
  if (l.limiters.cpu.value() < t.cpuBusyBelow) return 'cpu_busy';
  return undefined;
}

function must<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new NotStartedError(`node.${what}`);
  return v;
}

function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

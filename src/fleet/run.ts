/**
 * `dameso fleet`'s run: a broker (a child process, or one given by URL), N `dameso node` processes
 * each with its own data folder, a requester node in this process declaring intents at a steady
 * rate, optionally a node SIGKILLed and restarted every few seconds (same id and folder: its series
 * reopens and its session counter must go up), then a clean stop and an integrity check.
 */
import path from 'node:path';
import { systemClock } from '../clock.js';
import type { Outcome } from '../intent/types.js';
import { createLogger } from '../log.js';
import { createNode, type DamesoNode } from '../node.js';
import { declarations, REQUESTER_ID } from './declarations.js';
import { checkFolders, type OutcomeCheck, type SeriesCheck } from './integrity.js';
import { type Proc, Procs, usageOf } from './procs.js';
import { fleetRuntime } from './runtime.js';
import { Tally, type TallySnapshot } from './tally.js';

/** Deadline of each declared intent, ms. */
export const DEADLINE_MS = 1_000;
/** Declarations are grouped per tick above this rate (timers finer than 10 ms are not kept). */
const MIN_TICK_MS = 10;

export interface FleetOptions {
  nodes: number;
  roles: string[];
  /** `embedded` or `mqtt://host:port`. */
  broker: string;
  dataDir: string;
  durationS: number;
  rate: number;
  /** 0 = never kill. */
  killEveryS: number;
  /** Called once a second while intents are declared. */
  onProgress?: (p: FleetProgress) => void;
  /** Aborting ends the declaring phase early (Ctrl-C); the stop and checks still run. */
  signal?: AbortSignal;
}

export interface FleetProgress extends TallySnapshot {
  seconds: number;
  live: number;
  restarts: number;
}

export interface Restart {
  id: string;
  pid: number;
  sessionBefore: number;
  sessionAfter: number;
  /** SIGKILL to ready again, ms. */
  downMs: number;
}

export interface FleetSummary extends TallySnapshot {
  ok: boolean;
  failures: string[];
  nodes: number;
  roles: string[];
  broker: string;
  children: string;
  dataDir: string;
  seconds: number;
  /** From the first spawn to every node ready, ms. */
  startMs: number;
  restarts: Restart[];
  series: SeriesCheck[];
  requesterOutcomes: OutcomeCheck | null;
  /** RSS of each node process just before the stop, MB. */
  nodeRssMB: { avg: number; max: number };
  brokerRssMB: number | null;
  /** This process's user+system CPU over the run, s. */
  harnessCpuS: number;
  /** Every child pid started (all gone when the run returns). */
  pids: number[];
}

interface FleetNode {
  id: string;
  args: string[];
  proc: Proc;
  session: number;
  /** Set while the harness itself stops or kills it. */
  expectedExit: boolean;
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;
const sessionOf = (line: string): number => Number(/\(session (\d+)/.exec(line)?.[1] ?? Number.NaN);

export async function runFleet(o: FleetOptions): Promise<FleetSummary> {
  const runtime = fleetRuntime();
  const procs = new Procs(runtime);
  const killAll = (): void => procs.killAll();
  // A harness that exits any way (an exception, process.exit) takes its children with it.
  process.on('exit', killAll);
  const cpu0 = process.cpuUsage();
  const t0 = systemClock.monotonic();
  const failures: string[] = [];
  const log = createLogger({ level: 'warn' });
  const tally = new Tally();
  const declaredIds = new Set<string>();
  const pending = new Set<PromiseLike<Outcome>>();
  const restarts: Restart[] = [];
  const nodes: FleetNode[] = [];
  let broker: Proc | undefined;
  let requester: DamesoNode | undefined;
  let brokerUrl = o.broker;
  let startMs = 0;
  let usage = { nodeRssMB: { avg: 0, max: 0 }, brokerRssMB: null as number | null };
  let stopping = false;
  /** The requester's first seq of this run (a reused --data folder holds earlier runs). */
  let fromSeq = 0;
  // What closed before the requester stops (intents it cuts short are not part of the check).
  let closedIds: ReadonlySet<string> = new Set();
  let snap: TallySnapshot = tally.snapshot();
  try {
    if (o.broker === 'embedded') {
      broker = await procs.start(
        // Every node of the fleet connects from this machine's one address: room for all of them
        // (and their restarts after a kill) under the per-address limit meant for remote boards.
        [
          'broker',
          '--host',
          '127.0.0.1',
          '--port',
          '0',
          '--json',
          '--stats-ms',
          '0',
          '--max-connections-per-ip',
          String(localConnectionRoom(o.nodes)),
        ],
        /"event":"listening"/,
      );
      const at = JSON.parse(broker.readyLine) as { host: string; port: number };
      brokerUrl = `mqtt://${at.host}:${at.port}`;
      void broker.exited.then(({ code, signal }) => {
        if (!stopping) failures.push(`the broker exited unexpectedly (${signal ?? code})`);
      });
    }

    const startNode = async (n: Omit<FleetNode, 'proc' | 'session'>): Promise<FleetNode> => {
      const proc = await procs.start(n.args, new RegExp(`^node ${n.id} online \\(session \\d+`));
      const node: FleetNode = { ...n, proc, session: sessionOf(proc.readyLine) };
      void proc.exited.then(({ code, signal }) => {
        if (!node.expectedExit) failures.push(`${node.id} (pid ${proc.pid}) exited unexpectedly (${signal ?? code})`);
      });
      return node;
    };
    const spawnStart = systemClock.monotonic();
    nodes.push(
      ...(await Promise.all(
        Array.from({ length: o.nodes }, (_, i) => {
          const id = `fleet-${i}`;
          const args = ['node', '--id', id, '--roles', o.roles.join(','), '--broker', brokerUrl];
          args.push('--data', path.join(o.dataDir, id), '--log-level', 'warn');
          return startNode({ id, args, expectedExit: false });
        }),
      )),
    );
    startMs = round(systemClock.monotonic() - spawnStart, 0);

    requester = createNode({ id: REQUESTER_ID, broker: brokerUrl, dataDir: path.join(o.dataDir, REQUESTER_ID), log });
    await requester.start();
    fromSeq = requester.series.lastSeq + 1;
    const declarer = requester;

    const kinds = declarations(o.roles);
    const tickMs = Math.max(MIN_TICK_MS, 1000 / o.rate);
    let credit = 0;
    let k = 0;
    const declareTimer = systemClock.setInterval(() => {
      credit += (o.rate * tickMs) / 1000;
      for (; credit >= 1; credit--) {
        const { kind, subject, body } = kinds[k++ % kinds.length]!();
        try {
          const intent = declarer.declare(kind, { subject, deadlineMs: DEADLINE_MS, ...(body ? { body } : {}) });
          declaredIds.add(intent.id);
          tally.declared();
          const p = intent.then((out) => {
            tally.closed(out);
            pending.delete(p);
            return out;
          });
          pending.add(p);
        } catch (err) {
          failures.push(`declare failed: ${err instanceof Error ? err.message : String(err)}`);
          credit = 0;
        }
      }
    }, tickMs);

    // One kill at a time: SIGKILL, wait until reaped (a zombie's pid still holds the series lock), restart.
    let killing: Promise<void> = Promise.resolve();
    const killOne = async (): Promise<void> => {
      const node = nodes[Math.floor(Math.random() * nodes.length)]!;
      node.expectedExit = true;
      const killedAt = systemClock.monotonic();
      node.proc.child.kill('SIGKILL');
      await node.proc.exited;
      if (stopping) return;
      const again = await startNode({ id: node.id, args: node.args, expectedExit: false });
      restarts.push({
        id: node.id,
        pid: again.proc.pid,
        sessionBefore: node.session,
        sessionAfter: again.session,
        downMs: round(systemClock.monotonic() - killedAt, 0),
      });
      if (!(again.session > node.session)) {
        failures.push(`${node.id} restarted with session ${again.session}, not above ${node.session}`);
      }
      nodes[nodes.indexOf(node)] = again;
    };
    const killTimer =
      o.killEveryS > 0
        ? systemClock.setInterval(() => {
            killing = killing.then(killOne).catch((err: unknown) => {
              failures.push(`restart failed: ${err instanceof Error ? err.message : String(err)}`);
            });
          }, o.killEveryS * 1000)
        : undefined;

    const progressTimer = o.onProgress
      ? systemClock.setInterval(() => {
          o.onProgress?.({
            ...tally.snapshot(),
            seconds: round((systemClock.monotonic() - t0) / 1000, 1),
            live: nodes.filter((n) => n.proc.child.exitCode === null && n.proc.child.signalCode === null).length,
            restarts: restarts.length,
          });
        }, 1000)
      : undefined;

    await new Promise<void>((resolve) => {
      // A Ctrl-C while the nodes were starting has already fired: stop at once.
      if (o.signal?.aborted) return resolve();
      const timer = systemClock.setTimeout(resolve, o.durationS * 1000);
      o.signal?.addEventListener('abort', () => {
        systemClock.clearTimeout(timer);
        resolve();
      });
    });
    systemClock.clearInterval(declareTimer);
    systemClock.clearInterval(killTimer);
    systemClock.clearInterval(progressTimer);
    await killing;
    // Every declared intent closes by its deadline: wait for them (bounded) before stopping anything.
    await Promise.race([
      Promise.allSettled([...pending]),
      new Promise<void>((r) => systemClock.setTimeout(r, DEADLINE_MS + 2_000)),
    ]);
    const rss = nodes.map((n) => usageOf(n.proc.pid).rssMB);
    usage = {
      nodeRssMB: {
        avg: round(rss.reduce((a, b) => a + b, 0) / Math.max(1, rss.length), 1),
        max: round(Math.max(...rss), 1),
      },
      brokerRssMB: broker ? round(usageOf(broker.pid).rssMB, 1) : null,
    };
  } catch (err) {
    failures.push(err instanceof Error ? err.message : String(err));
  } finally {
    stopping = true;
    for (const n of nodes) n.expectedExit = true;
    closedIds = new Set(tally.closedIds);
    snap = tally.snapshot();
    await requester?.stop().catch((err: unknown) => failures.push(`requester stop: ${String(err)}`));
    await Promise.all(nodes.map((n) => procs.stop(n.proc)));
    if (broker) await procs.stop(broker);
    // Anything still running (a node being restarted when the run failed) goes now.
    procs.killAll();
    process.off('exit', killAll);
  }

  const nodeIds = Array.from({ length: o.nodes }, (_, i) => `fleet-${i}`);
  const { series, requesterOutcomes } = await checkFolders(
    o.dataDir,
    nodeIds,
    failures,
    requester && {
      id: REQUESTER_ID,
      declared: declaredIds,
      closed: closedIds,
      fromSeq,
    },
  );
  if (snap.closed > snap.declared) failures.push(`closed ${snap.closed} > declared ${snap.declared}`);
  if (snap.overCounted > 0) failures.push(`${snap.overCounted} intent(s) with more answers than expected peers`);
  const cpu = process.cpuUsage(cpu0);
  return {
    ok: failures.length === 0,
    failures,
    nodes: o.nodes,
    roles: o.roles,
    broker: brokerUrl,
    children: `${runtime.mode} (${runtime.why})`,
    dataDir: o.dataDir,
    seconds: round((systemClock.monotonic() - t0) / 1000, 1),
    ...snap,
    startMs,
    restarts,
    series,
    requesterOutcomes,
    ...usage,
    harnessCpuS: round((cpu.user + cpu.system) / 1e6),
    pids: procs.pids,
  };
}

/** Connections a fleet of `nodes` on one machine needs from its one address, with room for restarts. */
function localConnectionRoom(nodes: number): number {
  return Math.max(64, nodes * 2 + 16);
}

/**
 * The fleet's child processes: each a `dameso` command started through child.ts, ready when its
 * own stdout says so (the line the command prints once serving: no sleeps), stopped with SIGTERM
 * and SIGKILLed past a bound, and all SIGKILLed at once on a failure or an exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { FleetRuntime } from './runtime.js';

export const READY_TIMEOUT_MS = 60_000;
export const STOP_TIMEOUT_MS = 5_000;

export interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The first stdout line that matched the readiness pattern. */
  readonly readyLine: string;
  /** Resolves once the process has exited (and been reaped). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last stderr text (for errors). */
  stderrTail(): string;
}

export interface Usage {
  /** Resident memory, MB (Linux /proc; 0 elsewhere). */
  rssMB: number;
  /** user + system CPU, seconds (Linux /proc; 0 elsewhere). */
  cpuS: number;
}

/** RSS and CPU of a live process from /proc; zeros elsewhere or once it is gone. Also used by bench:intents. */
export function usageOf(pid: number): Usage {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the parenthesised command name, utime and stime are the 12th and 13th fields (ticks).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { rssMB: rssKB / 1024, cpuS: (Number(f[11]) + Number(f[12])) / 100 };
  } catch {
    return { rssMB: 0, cpuS: 0 };
  }
}

export class Procs {
  private readonly live = new Set<ChildProcess>();
  /** Every pid started, for the caller to check none is left. */
  readonly pids: number[] = [];

  constructor(private readonly runtime: FleetRuntime) {}

  /** Starts `dameso ARGS`; resolves once a stdout line matches `ready`, rejects if it exits first. */
  start(args: string[], ready: RegExp): Promise<Proc> {
    const child = spawn(process.execPath, [...this.runtime.nodeArgs, ...args], {
      // Own process group: a terminal's Ctrl-C reaches only the harness, which stops nodes before the broker.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.live.add(child);
    if (child.pid !== undefined) this.pids.push(child.pid);
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2000);
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => {
        this.live.delete(child);
        resolve({ code, signal });
      });
    });
    const what = `dameso ${args.slice(0, 3).join(' ')}`;
    return new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${what}: not ready after ${READY_TIMEOUT_MS} ms`));
      }, READY_TIMEOUT_MS);
      const onData = (d: Buffer): void => {
        out += d.toString();
        const lines = out.split('\n');
        out = lines.pop() ?? '';
        const line = lines.find((l) => ready.test(l));
        if (line === undefined) return;
        clearTimeout(timer);
        // Keep draining stdout so a chatty child never blocks on a full pipe.
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve({ child, pid: child.pid ?? -1, readyLine: line, exited, stderrTail: () => err.trim() });
      };
      child.stdout?.on('data', onData);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`${what} exited (${signal ?? code}) before it was ready: ${err.trim()}`));
      });
    });
  }

  /** SIGTERM, then SIGKILL after `STOP_TIMEOUT_MS`; resolves once it has exited. */
  async stop(p: Proc): Promise<void> {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return;
    const timer = setTimeout(() => p.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    p.child.kill('SIGTERM');
    await p.exited;
    clearTimeout(timer);
  }

  /** SIGKILLs every child still alive (sync: safe in signal and exit handlers). */
  killAll(): void {
    for (const child of this.live) child.kill('SIGKILL');
  }
}

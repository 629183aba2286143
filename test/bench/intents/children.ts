/**
 * The bench's child processes: started in parallel, ready when they say so over IPC (no sleeps),
 * stopped cleanly at the end, and SIGKILLed all at once on any failure or signal. A child that
 * dies while the bench runs fails the bench (its replies would be missing, not slow).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { ChildReady } from './child.js';
import type { ChildRuntime } from './runtime.js';

const READY_TIMEOUT_MS = 180_000; // 200 children starting at once on 2 cores take a while
const STOP_TIMEOUT_MS = 10_000;

export class Children {
  private readonly live = new Set<ChildProcess>();
  private readonly stopping = new WeakSet<ChildProcess>();

  /** `onDeath` is told when a ready child exits without being asked to. */
  constructor(
    private readonly runtime: ChildRuntime,
    private readonly onDeath: (err: Error) => void,
  ) {}

  /** Starts one child with `args`; resolves with it and its ready message. */
  start(args: string[]): Promise<{ child: ChildProcess; ready: ChildReady }> {
    const child = spawn(process.execPath, [...this.runtime.nodeArgs, ...args], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.live.add(child);
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2000);
    });
    const what = `child ${args.slice(0, 3).join(' ')}`;
    let ready = false;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${what}: not ready after ${READY_TIMEOUT_MS} ms`)),
        READY_TIMEOUT_MS,
      );
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        this.live.delete(child);
        const e = new Error(`${what} exited (${signal ?? code}): ${err.trim()}`);
        if (!ready) reject(e);
        else if (!this.stopping.has(child)) this.onDeath(e);
      });
      child.once('message', (m) => {
        clearTimeout(timer);
        ready = true;
        resolve({ child, ready: m as ChildReady });
      });
    });
  }

  /** Asks each child to stop and waits for it; SIGKILLs whichever has not exited in time. */
  async stop(children: ChildProcess[]): Promise<void> {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            this.stopping.add(child);
            const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            try {
              child.send('stop');
            } catch {
              child.kill('SIGKILL'); // its IPC channel is already gone
            }
          }),
      ),
    );
  }

  /** SIGKILLs every child still alive (sync: safe in signal and exit handlers). */
  killAll(): void {
    for (const child of this.live) {
      this.stopping.add(child);
      child.kill('SIGKILL');
    }
    this.live.clear();
  }
}

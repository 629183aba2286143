/**
 * `dameso broker --redis URL --id ID` in a child process, for the cluster fault suites: it can be
 * SIGKILLed (its peers must find it dead) or SIGTERMed (its clients' Wills must go out live).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './brokers.js';

export interface ClusterBrokerProcess {
  readonly id: string;
  /** `mqtt://127.0.0.1:PORT`. */
  readonly url: string;
  /** Sends `signal` and resolves with the exit once the process is gone (at once if it is). */
  kill(signal: 'SIGKILL' | 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** JSON lines it printed on stdout (listening, stopping, stopped…). */
  readonly events: ReadonlyArray<Record<string, unknown>>;
}

/** Spawns the broker and resolves once it printed its listening line. */
export async function startClusterBroker(
  redisUrl: string,
  id: string,
  extraArgs: string[] = [],
): Promise<ClusterBrokerProcess> {
  const port = await freePort();
  const script = fileURLToPath(new URL('./broker-cli-child.ts', import.meta.url));
  const args = ['--import', 'tsx', script, 'broker', '--host', '127.0.0.1', '--port', String(port)];
  args.push('--redis', redisUrl, '--id', id, '--stats-ms', '0', '--json', ...extraArgs);
  const child: ChildProcess = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DAMESO_LOG_LEVEL: process.env.DAMESO_LOG_LEVEL ?? 'silent' },
  });
  const events: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let pending = '';
  const listening = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const event = JSON.parse(line) as Record<string, unknown>;
        events.push(event);
        if (event.event === 'listening') resolve();
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`dameso broker ${id} exited with ${code} before listening: ${stderr}`)),
    );
  });
  await listening;
  return {
    id,
    url: `mqtt://127.0.0.1:${port}`,
    events,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

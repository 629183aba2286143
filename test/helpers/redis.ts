/**
 * A real redis-server (Debian's package) on a free port for the clustering suites, like
 * startMosquitto in brokers.ts: no persistence on disk, ready once it answers PING, killed by stop().
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { freePort } from './brokers.js';

export const REDIS_BIN = process.env.REDIS_BIN ?? '/usr/bin/redis-server';

/** True when Debian's redis-server binary is installed (the suites skip, saying so, when not). */
export function hasRedis(): boolean {
  return existsSync(REDIS_BIN);
}

export interface RedisHandle {
  readonly port: number;
  /** `redis://127.0.0.1:PORT/0`. */
  readonly url: string;
  /** Kills the server (SIGKILL) and resolves once it is gone. Idempotent. */
  stop(): Promise<void>;
  /** SIGSTOP / SIGCONT: a hung Redis (connections stay open, commands wait). */
  pause(): void;
  resume(): void;
  /** Kills the server and starts a new one, empty, on the same port; resolves once it answers PING. */
  restartEmpty(): Promise<void>;
}

/** Sends PING over a raw socket; true on `+PONG` (not `-LOADING`, not a refused connection). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** Spawns redis-server on a free port of 127.0.0.1 and waits until it answers PING. */
export async function startRedis(options: { bin?: string; timeoutMs?: number } = {}): Promise<RedisHandle> {
  const bin = options.bin ?? REDIS_BIN;
  if (!existsSync(bin)) {
    throw new Error(
      `redis-server not found at ${bin}: install it with "apt-get install -y redis-server" (or set REDIS_BIN)`,
    );
  }
  const port = await freePort();
  const timeoutMs = options.timeoutMs ?? 10_000;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  let child: ChildProcess = await launchRedis(bin, args, port, timeoutMs);
  const stop = async (): Promise<void> => {
    const c = child;
    if (c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    stop,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    async restartEmpty() {
      await stop();
      child = await launchRedis(bin, args, port, timeoutMs);
    },
  };
}

/** Spawns redis-server with `args` and resolves once it answers PING on `port`. */
async function launchRedis(bin: string, args: string[], port: number, timeoutMs: number): Promise<ChildProcess> {
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  };
  const started = performance.now();
  // Readiness is a PONG, polled on I/O turns (a connection refused returns at once).
  while (!(await ping(port))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited with ${child.exitCode ?? child.signalCode} before answering: ${stderr}`);
    }
    if (performance.now() - started > timeoutMs) {
      await stop();
      throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return child;
}

/**
 * Attackers for the hostile suite and bench: `dameso broker` in a child process (its RSS and CPU
 * are its own), raw sockets bound to chosen 127.0.0.x addresses (Linux routes 127.0.0.0/8 to lo),
 * and hand-made MQTT 3.1.1 packets left half-sent.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';

export interface BrokerChild {
  child: ChildProcess;
  pid: number;
  port: number;
  /** The `listening` JSON line. */
  listening: Record<string, unknown>;
  /** Log lines (pino JSON) written on stderr so far. */
  logs: Record<string, unknown>[];
  /** SIGTERM; resolves with the `stopped` line (the final counts). */
  stop(): Promise<Record<string, unknown>>;
  /** SIGKILL, for cleanup after a failure. */
  kill(): void;
}

const CHILD = 'test/helpers/broker-cli-child.ts';

/**
 * `dameso broker --host 127.0.0.1 --port 0 --json --stats-ms 0 ...extra`, logs at `logLevel` and
 * above; with `fdLimit`, started by a shell that set its descriptor limit (soft and hard) first.
 */
export async function startBrokerChild(extra: string[], logLevel = 'warn', fdLimit?: number): Promise<BrokerChild> {
  const args = ['--import', 'tsx', CHILD, 'broker', '--host', '127.0.0.1', '--port', '0', '--json', '--stats-ms', '0'];
  const [command, argv] =
    fdLimit === undefined
      ? [process.execPath, [...args, ...extra]]
      : ['bash', ['-c', `ulimit -n ${fdLimit} && exec "$0" "$@"`, process.execPath, ...args, ...extra]];
  const child = spawn(command, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DAMESO_LOG_LEVEL: logLevel },
  });
  const logs: Record<string, unknown>[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      logs.push({ raw: line });
    }
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error(`broker exited before listening: ${JSON.stringify(logs)}`);
  const listening = JSON.parse(first.value as string) as Record<string, unknown>;
  return {
    child,
    pid: child.pid!,
    port: listening.port as number,
    listening,
    logs,
    async stop() {
      // 'close': stdout and stderr both read to their end, so `logs` is complete.
      const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
      child.kill('SIGTERM');
      let stopped: Record<string, unknown> | undefined;
      for (let next = await lines.next(); !next.done; next = await lines.next()) {
        const line = JSON.parse(next.value as string) as Record<string, unknown>;
        if (line.event === 'stopped') stopped = line;
      }
      await closed;
      if (stopped === undefined) throw new Error('broker exited without its stopped line');
      return stopped;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Resident set of a process, bytes (/proc/PID/status VmRSS). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** CPU time (user + system) of a process so far, ms (/proc/PID/stat, clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "pid (comm) ".
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * A socket from `localAddress` to 127.0.0.1:`port`, resolved once connected. It reads and drops what
 * the broker sends (a socket never read never sees the broker's close).
 */
export function connectFrom(port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => undefined);
      socket.resume();
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Attacker sockets and how many the broker has closed. */
export class SocketFlood {
  readonly sockets: net.Socket[] = [];
  closed = 0;
  /** Addresses that had a socket closed by the broker. */
  readonly closedFrom = new Set<string>();

  /** Counts `socket`, from `localAddress`, in the flood. */
  add(socket: net.Socket, localAddress: string): void {
    this.sockets.push(socket);
    socket.once('close', () => {
      this.closed++;
      this.closedFrom.add(localAddress);
    });
  }

  /** Opens `count` sockets from `localAddress`, `batch` at a time (the listen backlog is finite). */
  async open(port: number, localAddress: string, count: number, batch = 100, first?: Buffer): Promise<void> {
    for (let done = 0; done < count; done += batch) {
      const n = Math.min(batch, count - done);
      const opened = await Promise.all(Array.from({ length: n }, () => connectFrom(port, localAddress)));
      for (const s of opened) {
        this.add(s, localAddress);
        if (first) s.write(first);
      }
    }
  }

  get stillOpen(): number {
    return this.sockets.length - this.closed;
  }

  destroy(): void {
    for (const s of this.sockets) s.destroy();
  }
}

/** MQTT-2.2.3 Remaining Length. */
export function remainingLength(n: number): Buffer {
  const out: number[] = [];
  let x = n;
  do {
    let b = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) b |= 0x80;
    out.push(b);
  } while (x > 0);
  return Buffer.from(out);
}

const str = (s: string) => {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};

/** A whole MQTT 3.1.1 CONNECT (clean session), with an optional Will (QoS 0). */
export function connectPacket(clientId: string, keepaliveS: number, will?: { topic: string; payload: Buffer }): Buffer {
  const flags = 0x02 | (will ? 0x04 : 0);
  const body = Buffer.concat([
    str('MQTT'),
    Buffer.from([4, flags, keepaliveS >> 8, keepaliveS & 0xff]),
    str(clientId),
    ...(will
      ? [
          str(will.topic),
          Buffer.concat([Buffer.from([will.payload.length >> 8, will.payload.length & 0xff]), will.payload]),
        ]
      : []),
  ]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

/** The first `sent` bytes of a packet of type byte `type` announcing `announced` body bytes. */
export function halfPacket(type: number, announced: number, sent: number): Buffer {
  const header = Buffer.concat([Buffer.from([type]), remainingLength(announced)]);
  return Buffer.concat([header, Buffer.alloc(Math.max(0, sent - header.length), 0x61)]);
}

/** Resolves when `check()` holds; rejects after `timeoutMs` naming `what` (never falls through). */
export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Brokers for everyone's tests: a real Aedes (embedded) or a real Mosquitto (Debian's package) on a
 * free port, with the same handle shape so one behaviour suite runs against both
 * (one behaviour suite, every broker). Always `await handle.stop()` in `afterEach`/`afterAll`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Aedes } from 'aedes';
import { createBrokerHost } from '../../broker/index.js';
import type { BrokerHostOptions, BrokerStats } from '../../broker/types.js';

/** A running broker. `broker` is the Aedes instance (undefined for Mosquitto). */
export interface BrokerHandle {
  readonly kind: 'aedes' | 'mosquitto';
  /** `mqtt://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** `ws://127.0.0.1:PORT` when a WebSocket listener was asked for. */
  readonly wsUrl?: string;
  /** The running Aedes (changes after restart()); undefined for Mosquitto. */
  readonly broker?: Aedes;
  /** Broker host counters (drops per reason…); undefined for Mosquitto. */
  stats?(): BrokerStats;
  /** Stops listening, drops every connection, releases the port. Idempotent. */
  stop(): Promise<void>;
  /** stop() then listen again on the SAME port(s) (for "broker stopped mid-intent"). */
  restart(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once something accepts TCP connections on `port`, rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const started = performance.now();
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (performance.now() - started > timeoutMs)
      throw new Error(`nothing accepted connections on port ${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * A real dameso broker host (Aedes + envelope check + packet guard) on an ephemeral port of
 * 127.0.0.1. `ws: true` adds a WebSocket listener. Options are BrokerHostOptions (e.g.
 * `checkEnvelopes: false` for a bare Aedes, `persistence` to keep retained records over restart()).
 */
export async function startAedes(options: BrokerHostOptions & { ws?: boolean } = {}): Promise<BrokerHandle> {
  const { ws, ...rest } = options;
  const host = createBrokerHost({ port: 0, ...rest, host: '127.0.0.1', wsPort: ws ? (rest.wsPort ?? 0) : undefined });
  const address = await host.start();
  let stopped = false;
  return {
    kind: 'aedes',
    url: address.url,
    port: address.port,
    wsUrl: address.wsUrl,
    get broker() {
      return host.broker;
    },
    stats: () => host.stats(),
    async stop() {
      stopped = true;
      await host.stop();
    },
    async restart() {
      if (stopped) throw new Error('restart() after stop()');
      await host.stop();
      // Ports are sticky in the host: start() listens on the same ports again.
      await host.start();
    },
  };
}

/**
 * `dameso broker` in a child process (the hosted Aedes) on a free port of 127.0.0.1. stop() sends
 * SIGTERM and waits for a clean exit; restart() does that and starts it again on the same ports.
 */
export async function startHostedAedes(options: { ws?: boolean; args?: string[] } = {}): Promise<BrokerHandle> {
  const port = await freePort();
  const wsPort = options.ws ? await freePort() : undefined;
  const child = fileURLToPath(new URL('./broker-cli-child.ts', import.meta.url));
  const args = [
    '--import',
    'tsx',
    child,
    'broker',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--stats-ms',
    '0',
    '--json',
  ];
  if (wsPort !== undefined) args.push('--ws-port', String(wsPort));
  args.push(...(options.args ?? []));
  let proc: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    const p = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DAMESO_LOG_LEVEL: 'silent' },
    });
    proc = p;
    let stderr = '';
    p.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('"event":"listening"')) {
          p.stdout?.off('data', onData);
          p.stdout?.resume();
          resolve();
        }
      };
      p.stdout?.on('data', onData);
      p.once('exit', (code) => reject(new Error(`dameso broker exited with ${code} before listening: ${stderr}`)));
    });
  };
  const terminate = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  };
  await launch();
  let stopped = false;
  return {
    kind: 'aedes',
    url: `mqtt://127.0.0.1:${port}`,
    port,
    wsUrl: wsPort === undefined ? undefined : `ws://127.0.0.1:${wsPort}`,
    async stop() {
      stopped = true;
      await terminate();
    },
    async restart() {
      if (stopped) throw new Error('restart() after stop()');
      await terminate();
      await launch();
    },
  };
}

/** A broker implementation the behaviour suites run against. */
export interface BrokerFactory {
  name: 'aedes-embedded' | 'aedes-hosted' | 'mosquitto';
  start(options?: { ws?: boolean }): Promise<BrokerHandle>;
}

/**
 * Every broker available here: embedded Aedes and hosted Aedes always, Mosquitto when installed
 * (`describe.each(brokerFactories())`). `npm test` suites use embedded Aedes; interop suites all.
 */
export function brokerFactories(): BrokerFactory[] {
  const list: BrokerFactory[] = [
    { name: 'aedes-embedded', start: (o) => startAedes({ ws: o?.ws }) },
    { name: 'aedes-hosted', start: (o) => startHostedAedes({ ws: o?.ws }) },
  ];
  if (hasMosquitto()) list.push({ name: 'mosquitto', start: (o) => startMosquitto({ ws: o?.ws }) });
  return list;
}

export const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';

/** True when Debian's mosquitto binary is installed (interop suites skip or fail clearly). */
export function hasMosquitto(): boolean {
  return existsSync(MOSQUITTO_BIN);
}

/**
 * Spawns Mosquitto with a generated config on a free port (127.0.0.1, anonymous, no persistence)
 * and waits until it accepts connections. Throws a clear error when mosquitto is not installed.
 */
export async function startMosquitto(
  options: { port?: number; ws?: boolean; bin?: string } = {},
): Promise<BrokerHandle> {
  const bin = options.bin ?? MOSQUITTO_BIN;
  if (!existsSync(bin)) {
    throw new Error(
      `mosquitto not found at ${bin}: install it with "apt-get install -y mosquitto" (or set MOSQUITTO_BIN)`,
    );
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dameso-mosquitto-'));
  const port = options.port ?? (await freePort());
  const wsPort = options.ws ? await freePort() : undefined;
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'log_dest stderr',
    'log_type error',
    // Match dameso's 1 MiB payload bound with room for the MQTT header.
    'max_packet_size 1049600',
  ];
  if (wsPort !== undefined) lines.push(`listener ${wsPort} 127.0.0.1`, 'protocol websockets', 'allow_anonymous true');
  const conf = path.join(dir, 'mosquitto.conf');
  await writeFile(conf, `${lines.join('\n')}\n`);

  let child: ChildProcess | undefined;
  let stderr = '';
  const launch = async (): Promise<void> => {
    const proc = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => reject(new Error(`mosquitto exited with ${code} before listening: ${stderr}`))),
    );
    exited.catch(() => {});
    await Promise.race([waitForPort(port), exited]);
    if (wsPort !== undefined) await Promise.race([waitForPort(wsPort), exited]);
  };
  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  };
  await launch();
  let stopped = false;
  return {
    kind: 'mosquitto',
    url: `mqtt://127.0.0.1:${port}`,
    port,
    wsUrl: wsPort === undefined ? undefined : `ws://127.0.0.1:${wsPort}`,
    async stop() {
      await kill();
      if (!stopped) {
        stopped = true;
        await rm(dir, { recursive: true, force: true });
      }
    },
    async restart() {
      if (stopped) throw new Error('restart() after stop()');
      await kill();
      await launch();
    },
  };
}

/**
 * systemd notify with a real unix datagram socket standing in for systemd: a real `dameso node`
 * process sends READY=1 once online, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1 at stop; a
 * process whose event loop hangs stops pinging.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileAuth, setCredential } from '../../broker/auth.js';
import { createBrokerHost } from '../../broker/host.js';
import { createManualClock } from '../../src/clock.js';
import { silentLogger } from '../../src/log.js';
import { createSystemdNotifier, watchdogPeriodMs } from '../../src/supervise/index.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { finished, printed, runCli } from '../helpers/node-cli.js';
import { type NotifySocket, startNotifySocket } from '../helpers/notify-socket.js';

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');
const CHILD = join(import.meta.dirname, '../helpers/notify-child.ts');
/** The watchdog period given to the children, µs: a ping every 200 ms. */
const WATCHDOG_USEC = 400_000;

const has = (cmd: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
};

let dir: string;
let broker: BrokerHandle;
let sock: NotifySocket;
beforeAll(async () => {
  dir = await mkdtemp(join(os.tmpdir(), 'dameso-notify-'));
  broker = await startAedes();
});
afterAll(async () => {
  await broker?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('notifier without systemd', () => {
  it('does nothing without NOTIFY_SOCKET, and reads WATCHDOG_USEC only for its own pid', () => {
    const clock = createManualClock();
    const n = createSystemdNotifier({
      clock,
      log: silentLogger,
      env: { WATCHDOG_USEC: '1000000' },
      command: '/nonexistent',
    });
    expect(n.active).toBe(false);
    expect(n.watchdogMs).toBeUndefined();
    n.startWatchdog();
    n.ready('x');
    n.stopping();
    expect(watchdogPeriodMs({ WATCHDOG_USEC: '30000000' }, 7)).toBe(30_000);
    expect(watchdogPeriodMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '8' }, 7)).toBeUndefined();
    expect(watchdogPeriodMs({ WATCHDOG_USEC: 'abc' }, 7)).toBeUndefined();
  });
});

describe.skipIf(!has('systemd-notify') || !has('python3'))('notify socket (systemd-notify, python3 listener)', () => {
  beforeAll(async () => {
    sock = await startNotifySocket(dir);
  });
  afterAll(() => sock?.close());

  it('a real node: WATCHDOG=1 extending the start, READY=1 once online, STOPPING=1 at SIGTERM; --device auto said', async () => {
    const model = join(dir, 'model');
    await writeFile(model, 'Raspberry Pi 4 Model B Rev 1.4\0');
    const data = join(dir, 'data-n1');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'node', '--id', 'n1', '--broker', broker.url, '--data', data, '--retry'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          NOTIFY_SOCKET: sock.path,
          WATCHDOG_USEC: String(WATCHDOG_USEC),
          DAMESO_DEVICE: 'auto',
          DAMESO_DEVICE_MODEL_FILE: model,
        },
      },
    );
    const exit = finished(child);
    const online = printed(child, 'node n1 online');
    const from = sock.messages.length;
    const firstPing = await sock.next('WATCHDOG=1', 15_000, from);
    expect(firstPing).toContain(`EXTEND_TIMEOUT_USEC=${WATCHDOG_USEC}`);
    await online;
    const ready = await sock.next('READY=1', 15_000, from);
    expect(ready.find((f) => f.startsWith('STATUS='))).toMatch(/^STATUS=online, session \d+$/);
    // Pings go on after READY, now plain WATCHDOG=1.
    const afterReady = sock.messages.length;
    await sock.next('WATCHDOG=1', 15_000, afterReady);
    await sock.next('WATCHDOG=1', 15_000, sock.messages.length);
    expect(
      sock.messages
        .slice(afterReady)
        .filter((m) => m.includes('WATCHDOG=1'))
        .every((m) => m.length === 1),
    ).toBe(true);
    child.kill('SIGTERM');
    await sock.next('STOPPING=1', 15_000, afterReady);
    const r = await exit;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /, board pi-4b \(auto: Raspberry Pi 4 Model B Rev 1\.4, [\d.]+ GiB RAM, memory budget [\d.]+ GiB\)/,
    );
    const status = await runCli(['status', '--data', data]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^board\s+pi-4b \(auto: Raspberry Pi 4 Model B Rev 1\.4, /m);
  });

  it('a start the broker refuses is a STATUS= line per attempt, and no READY=1', async () => {
    const users = join(dir, 'n2.users');
    await setCredential(users, 'other', 'other-secret-pw', { ln: 10, r: 8, p: 1 });
    const host = createBrokerHost({ port: 0, auth: await createFileAuth({ file: users }) });
    const { url } = await host.start();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'node', '--id', 'n2', '--broker', url, '--data', join(dir, 'data-n2'), '--retry'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NOTIFY_SOCKET: sock.path } },
    );
    try {
      const from = sock.messages.length;
      const status = await sock.next('STATUS=start refused [DAMESO_BAD_CONFIG], retry 2 in 1 s', 15_000, from);
      expect(status).toHaveLength(1);
      expect(sock.messages.slice(from).some((m) => m.includes('READY=1'))).toBe(false);
    } finally {
      child.kill('SIGKILL');
      await host.stop();
    }
  });

  it('a blocked event loop stops the WATCHDOG=1 pings', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: String(WATCHDOG_USEC) },
    });
    try {
      const from = sock.messages.length;
      await sock.next('READY=1', 15_000, from);
      // Two pings: the loop is pinging.
      await sock.next('WATCHDOG=1', 15_000, sock.messages.length);
      await sock.next('WATCHDOG=1', 15_000, sock.messages.length);
      const blocked = printed(child, 'blocked');
      child.stdin?.write('block\n');
      await blocked;
      const atBlock = sock.count('WATCHDOG=1');
      // Ten watchdog periods of real time (absence cannot be waited for as an event). One ping
      // spawned just before the loop blocked may still land.
      await sleep((WATCHDOG_USEC / 1000) * 10);
      expect(sock.count('WATCHDOG=1') - atBlock).toBeLessThanOrEqual(1);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

/**
 * What `dameso node` does to keep running on a board without anyone at it: `--device auto`,
 * boot retries (`--retry`), the systemd notify protocol and watchdog, and safe mode after
 * crashes at start. The parts live in `src/supervise/`; this file wires them to the command.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { Option } from 'commander';
import { type Board, describeDevice, detectDevice, loadBoard } from '../../devices/boards/index.js';
import { systemClock } from '../clock.js';
import { DamesoError } from '../errors.js';
import type { Logger } from '../log.js';
import type { NodeExtras } from '../metrics/index.js';
import {
  BootRetry,
  beginStart,
  createSystemdNotifier,
  type SafeModeRecord,
  type Startable,
  type StartSupervision,
  SUPERVISE_FILE,
  type SystemdNotifier,
} from '../supervise/index.js';
import { StartAbortedError } from '../transport/index.js';
import { EXIT } from './exit.js';

/** The environment variable giving `--device` when neither the flag nor the config file does (the unit sets auto). */
export const DEVICE_ENV = 'DAMESO_DEVICE';

export function deviceFlag(): Option {
  return new Option(
    '--device <board>',
    'board profile for budgets (generic, pi-zero-2w, pi-3b, pi-4b, pi-400, pi-cm4, pi-5), or auto: found ' +
      `from /proc/device-tree/model, memory budgets scaled to the RAM (default generic); e.g. --device auto`,
  ).env(DEVICE_ENV);
}

export const RETRY_FLAG = [
  '--retry',
  'keep trying a start the broker refuses (password, certificate, unreachable) with backoff up to 60 s, ' +
    'one warning per attempt, instead of exiting; the systemd unit passes it; e.g. --retry',
] as const;

export const SUPERVISE_HELP = `
On a board (systemd unit: devices/systemd/dameso-node.service):
  dameso node --config /etc/dameso/node.json --device auto --retry
--device auto picks the board profile from /proc/device-tree/model (Pi Zero 2 W, 3 B/B+, 4 B, 400,
5, CM4; generic otherwise) and scales its memory budgets to the RAM the board has. --retry keeps a
start the broker refuses going (1 s, 2 s, 4 s … 60 s between attempts, each said at warn and counted
in \`dameso status --data\`); without it a refusal exits 69/78 at once, as suits a terminal. Under
systemd (Type=notify) the node sends READY=1 once online, WATCHDOG=1 from its event loop at half
of WatchdogSec, STOPPING=1 at stop. After 3 crashes at start within 10 minutes the node starts in
safe mode: no roles, sensors or backup, presence and status only, said in the log and in status.
`;

/** The board for `--device`: `auto` detected here (to print it), any other value as given. */
export function deviceOption(flag: string | undefined): { device?: string | Board; line: string } {
  if (flag !== 'auto') return flag === undefined ? { line: '' } : { device: flag, line: '' };
  const d = detectDevice(loadBoard);
  const line = `, board ${d.board.board} (auto: ${describeDevice({ ...d, memoryBudgetBytes: d.board.memory.budgetBytes })})`;
  return { device: d.board, line };
}

export interface Supervised {
  sup: StartSupervision;
  notifier: SystemdNotifier;
  safeMode: SafeModeRecord | undefined;
}

/** Before anything that could crash: records this start, decides safe mode, starts the watchdog pings. */
export async function beginSupervision(id: string, dataDir: string, log: Logger): Promise<Supervised> {
  const notifier = createSystemdNotifier({ clock: systemClock, log });
  // Only this process speaks for the unit: processes it starts do not inherit the socket.
  for (const v of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID']) delete process.env[v];
  notifier.startWatchdog();
  const sup = await beginStart({ dataDir, clock: systemClock, log });
  const safeMode = sup.safeMode;
  if (safeMode !== undefined) {
    const why = safeModeWhy(safeMode);
    log.warn({ safeMode: true, crashes: safeMode.crashes }, `node ${id} starts in safe mode: ${why}`);
    notifier.status(`safe mode: ${why}`);
  }
  return { sup, notifier, safeMode };
}

export function safeModeWhy(s: SafeModeRecord): string {
  return (
    `${s.crashes} crashes at start within ${s.windowMs / 60_000} min; no roles, sensors or backup, ` +
    'presence and status only; fix the cause and restart (crashes older than the window no longer count)'
  );
}

/**
 * Starts the node (again after each boot refusal with `retry`). Resolves undefined when a signal
 * stopped it before it was online. An error that no restart repairs (exit 64/78) settles this
 * start: it is no crash.
 */
export async function startSupervised<N extends Startable>(o: {
  create: () => N;
  retry: boolean;
  log: Logger;
  s: Supervised;
  signal: Promise<unknown>;
}): Promise<N | undefined> {
  const boot = new BootRetry<N>({
    create: o.create,
    clock: systemClock,
    log: o.log,
    retry: o.retry,
    onRefusal: (r) => {
      o.s.notifier.status(`start refused [${r.code}], retry ${r.attempt + 1} in ${r.nextDelayMs / 1000} s`);
      return o.s.sup.noteRefusal(r);
    },
  });
  let online = false;
  void o.signal.then(() => (online ? undefined : boot.abort()));
  try {
    const node = await boot.start();
    online = true;
    return node;
  } catch (err) {
    if (err instanceof StartAbortedError) {
      o.s.notifier.stopping();
      await o.s.sup.settle();
      return undefined;
    }
    const code = err instanceof DamesoError ? EXIT.forCode(err.code) : EXIT.internal;
    if (code === EXIT.usage || code === EXIT.config) await o.s.sup.settle();
    throw err;
  }
}

/** Whether the data folder exists before this start writes its supervision record into it. */
export async function dataFolderExists(dataDir: string): Promise<boolean> {
  return (await stat(dataDir).catch(() => undefined)) !== undefined;
}

/**
 * A first start (no data folder before it) refused for a mistake (a usage, configuration or
 * unavailable error, not a crash) before writing anything but its supervision record leaves no
 * folder behind. A crash keeps its record, so crashes at start still add up to safe mode.
 */
export async function forgetFailedFirstStart(dataDir: string, existedBefore: boolean, err: unknown): Promise<void> {
  if (existedBefore || !(err instanceof DamesoError)) return;
  const code = EXIT.forCode(err.code);
  if (code !== EXIT.usage && code !== EXIT.config && code !== EXIT.unavailable) return;
  const entries = await readdir(dataDir).catch(() => undefined);
  if (entries?.every((e) => e.startsWith(SUPERVISE_FILE))) await rm(dataDir, { recursive: true, force: true });
}

/** Online: READY=1 for systemd, and the clean-run clock of the crash record starts. */
export function supervisedOnline(s: Supervised, status: string): void {
  s.notifier.ready(status);
  s.sup.online();
}

/** For the metrics port: `dameso_safe_mode`, `dameso_boot_refusals_total`, and the record for `/status`. */
export function superviseExtras(s: Supervised): NodeExtras {
  return {
    samples: (sink) => {
      sink('dameso_safe_mode', s.safeMode === undefined ? 0 : 1);
      sink('dameso_boot_refusals_total', s.sup.refusedAttempts);
    },
    supervise: () => s.sup.summary(),
  };
}

/** Stopping on a signal: STOPPING=1 first; `settled()` after the node stopped. */
export function supervisedStopping(s: Supervised): { settled(): Promise<void> } {
  s.notifier.stopping();
  return { settled: () => s.sup.settle() };
}

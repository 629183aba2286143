/**
 * systemd's notify protocol (sd_notify(3)) for `Type=notify` units: `READY=1` once online,
 * `WATCHDOG=1` from the event loop at half of `WATCHDOG_USEC` (a loop that hangs stops the pings
 * and systemd restarts the node), `STOPPING=1` at stop, `STATUS=` lines for `systemctl status`.
 *
 * Node has no unix datagram sockets, so each message is sent by the `systemd-notify` command,
 * spawned from the event loop; the unit needs `NotifyAccess=all` (the sender is a child). Since
 * systemd 246 `systemd-notify` waits until the manager has read the message (a barrier), so a
 * child that exits at once is still counted as the unit's. Without `NOTIFY_SOCKET` in the
 * environment every call does nothing.
 */
import { spawn } from 'node:child_process';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';
import { SYSTEMD_NOTIFY_COMMAND } from './constants.js';

export interface SystemdNotifier {
  /** True when the process runs under a `Type=notify` unit (NOTIFY_SOCKET set). */
  readonly active: boolean;
  /** The watchdog period systemd asked for, ms; undefined when it asked for none. */
  readonly watchdogMs: number | undefined;
  /** `READY=1` with a status line: start-up is complete. */
  ready(status: string): void;
  /** A status line for `systemctl status` (boot retries, safe mode). */
  status(text: string): void;
  /** `STOPPING=1`; the watchdog pings stop. */
  stopping(): void;
  /** Starts pinging at half the watchdog period (before READY too: the start-up timeout is extended). */
  startWatchdog(): void;
  stopWatchdog(): void;
}

export interface NotifierOptions {
  clock: Clock;
  log: Logger;
  /** Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Default `SYSTEMD_NOTIFY_COMMAND`. */
  command?: string;
  /** This process's pid, matched against `WATCHDOG_PID`. Default `process.pid`. */
  pid?: number;
}

/** `WATCHDOG_USEC` as ms when it is meant for this process (`WATCHDOG_PID` unset or ours). */
export function watchdogPeriodMs(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isSafeInteger(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 1000));
}

export function createSystemdNotifier(o: NotifierOptions): SystemdNotifier {
  // A copy: the caller may unset the variables for its children (sd_notify's unset_environment).
  const env = { ...(o.env ?? process.env) };
  const active = typeof env.NOTIFY_SOCKET === 'string' && env.NOTIFY_SOCKET !== '';
  const watchdogMs = active ? watchdogPeriodMs(env, o.pid ?? process.pid) : undefined;
  const command = o.command ?? SYSTEMD_NOTIFY_COMMAND;
  let ready = false;
  let timer: TimerHandle | undefined;
  /** A watchdog ping still being sent: the next tick skips (one helper process at a time). */
  let pinging = false;
  let failureSaid = false;

  const send = (fields: string[], done?: () => void): void => {
    const child = spawn(command, fields, { stdio: 'ignore', env });
    child.once('error', (err) => {
      done?.();
      if (failureSaid) return;
      failureSaid = true;
      o.log.warn({ err, command }, `systemd: cannot run ${command} to notify systemd (install the systemd package)`);
    });
    child.once('exit', (code) => {
      done?.();
      if (code === 0 || failureSaid) return;
      failureSaid = true;
      o.log.warn({ command, code }, `systemd: ${command} ${fields[0] ?? ''} exited with ${code}`);
    });
  };

  const tick = (): void => {
    if (pinging) return;
    pinging = true;
    // Before READY the start-up timeout is extended by one period per ping: a node waiting for
    // its broker is not killed for it, one whose loop hangs is.
    const fields = ready ? ['WATCHDOG=1'] : ['WATCHDOG=1', `EXTEND_TIMEOUT_USEC=${(watchdogMs ?? 0) * 1000}`];
    send(fields, () => {
      pinging = false;
    });
  };

  return {
    active,
    watchdogMs,
    ready(status) {
      if (!active) return;
      ready = true;
      send(['READY=1', `STATUS=${status}`]);
    },
    status(text) {
      if (active) send([`STATUS=${text}`]);
    },
    stopping() {
      if (!active) return;
      o.clock.clearInterval(timer);
      timer = undefined;
      send(['STOPPING=1']);
    },
    startWatchdog() {
      if (watchdogMs === undefined || timer !== undefined) return;
      timer = o.clock.setInterval(tick, Math.max(1, Math.floor(watchdogMs / 2)));
      tick();
    },
    stopWatchdog() {
      o.clock.clearInterval(timer);
      timer = undefined;
    },
  };
}

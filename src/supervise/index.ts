/** Supervision: systemd notify and watchdog, boot retries, crashes at start and safe mode. */
export {
  type BootRefusal,
  BootRetry,
  type BootRetryOptions,
  bootRetryDelayMs,
  isBootRefusal,
  type Startable,
} from './boot-retry.js';
export * from './constants.js';
export { DataFolderUnwritableError } from './errors.js';
export { createSystemdNotifier, type NotifierOptions, type SystemdNotifier, watchdogPeriodMs } from './notify.js';
export {
  type BootRefusalsRecord,
  readRecord,
  recordPath,
  type SafeModeRecord,
  type SuperviseRecord,
  writeRecord,
} from './record.js';
export { type BeginOptions, beginStart, crashesWithin, type StartSupervision } from './safe-mode.js';

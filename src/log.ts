/**
 * Logging: pino, injected. Parts receive a `Logger` and never create their own, so a node's parts
 * share one destination and tests pass `silentLogger`. On a terminal the lines are human
 * (log-pretty.ts, colours on a TTY); elsewhere (journald, files, pipes) they are JSON.
 */
import { writeSync } from 'node:fs';
import { pino } from 'pino';
import { prettyFromJson } from './log-pretty.js';

export type Logger = pino.Logger;

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** `auto`: pretty when stderr is a terminal, JSON otherwise. */
export type LogFormat = 'auto' | 'pretty' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['auto', 'pretty', 'json'];

export interface LoggerOptions {
  /** Default: `DAMESO_LOG_LEVEL`, else `info`. */
  level?: LogLevel;
  name?: string;
  /** Default: `DAMESO_LOG_FORMAT`, else `auto`. */
  format?: LogFormat;
  /** Whether the destination is a terminal. Default: stderr's `isTTY`. */
  isTty?: boolean;
}

const STDERR_FD = 2;

/** Whether a logger with these options writes pretty lines. */
export function prettyLogs(options: Pick<LoggerOptions, 'format' | 'isTty'> = {}): boolean {
  const env = process.env.DAMESO_LOG_FORMAT;
  const format = options.format ?? (LOG_FORMATS.includes(env as LogFormat) ? (env as LogFormat) : 'auto');
  if (format !== 'auto') return format === 'pretty';
  return options.isTty ?? process.stderr.isTTY === true;
}

/** A logger writing to stderr (stdout stays for command output): JSON lines, or pretty ones on a terminal. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = {
    level: options.level ?? (process.env.DAMESO_LOG_LEVEL as LogLevel | undefined) ?? 'info',
    name: options.name ?? 'dameso',
  };
  if (!prettyLogs(options)) return pino(settings, pino.destination(STDERR_FD));
  // Colours only on a real terminal that did not opt out (https://no-color.org).
  const colours = (options.isTty ?? process.stderr.isTTY === true) && process.env.NO_COLOR === undefined;
  // Synchronous like pino.destination(2): a line is out before a crash or an exit.
  const stream = { write: (json: string) => writeSync(STDERR_FD, prettyFromJson(json, { colours })) };
  return pino(settings, stream);
}

export const silentLogger: Logger = pino({ level: 'silent' });

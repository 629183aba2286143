/**
 * Logging: pino, injected. Parts receive a `Logger` and never create their own, so a node's parts
 * share one destination and tests pass `silentLogger`.
 */
import { pino } from 'pino';

export type Logger = pino.Logger;

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** A logger writing JSON lines to stderr (stdout stays for command output). */
export function createLogger(options: { level?: LogLevel; name?: string } = {}): Logger {
  return pino(
    {
      level: options.level ?? (process.env.DAMESO_LOG_LEVEL as LogLevel | undefined) ?? 'info',
      name: options.name ?? 'dameso',
    },
    pino.destination(2),
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });

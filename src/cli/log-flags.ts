/**
 * `--log-level` and `--log-format` for every command that logs (node, broker, field, fleet): one
 * definition, one check (a bad value is a usage error, exit 64), one logger.
 */
import { DamesoError } from '../errors.js';
import { createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type Logger, type LogLevel } from '../log.js';

export const LOG_LEVEL_FLAG = [
  '--log-level <level>',
  `least severe log lines written: ${LOG_LEVELS.join('|')} (default info); e.g. --log-level debug`,
] as const;

export const LOG_FORMAT_FLAG = [
  '--log-format <format>',
  'log lines as JSON (journald, files) or pretty (time, level, message, key=value; colours on a terminal); ' +
    'auto (default): pretty when stderr is a terminal, JSON otherwise; e.g. --log-format json',
] as const;

export interface LogFlags {
  logLevel?: string;
  logFormat?: string;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new DamesoError('DAMESO_USAGE', `${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
}

/** The logger the flags ask for; throws a usage error on a level or format it does not know. */
export function loggerFromFlags(flags: LogFlags, defaults: { level?: LogLevel; name?: string } = {}): Logger {
  const level =
    flags.logLevel === undefined ? defaults.level : oneOf<LogLevel>('--log-level', flags.logLevel, LOG_LEVELS);
  const format =
    flags.logFormat === undefined ? undefined : oneOf<LogFormat>('--log-format', flags.logFormat, LOG_FORMATS);
  return createLogger({
    ...(level !== undefined ? { level } : {}),
    ...(format !== undefined ? { format } : {}),
    ...(defaults.name !== undefined ? { name: defaults.name } : {}),
  });
}

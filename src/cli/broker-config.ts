/**
 * `dameso broker --config FILE`: the broker's settings in a JSON file, so a site's systemd unit
 * runs `dameso broker --config /etc/dameso/broker.json` instead of a long ExecStart.
 *
 * The keys mirror the long flags in camelCase (`--tls-cert` → `tlsCert`, `--no-check` →
 * `"check": false`). File values are turned into the strings the flags would carry and put through
 * the flags' own parsers (config-file.ts does the rest, as for `dameso node --config`); a flag given
 * on the command line overrides the file. Everything wrong with the file is a ConfigError (exit 78)
 * naming the key; a bad flag stays a usage error (exit 64).
 */
import type { Command } from 'commander';
import * as z from 'zod';
import { parseRedisUrl } from '../../broker/index.js';
import { ConfigError } from '../errors.js';
import { rootTopic } from '../protocol/index.js';
import { BROKER_COUNT_KEYS, type BrokerFlags, checkBrokerId, parseBrokerCount } from './broker.js';
import {
  checkPorts,
  inFile,
  mergeConfigFile,
  numbersAsStrings,
  parseConfigJson,
  portValue,
  readConfigSource,
  text,
  wholeNumber,
} from './config-file.js';

const onOff = z.boolean({ error: 'expected true or false' });

/** One key per long flag of `dameso broker` (except --config); test/cli/broker-config.test.ts checks the two agree. */
export const brokerConfigSchema = z.strictObject({
  host: text,
  port: portValue,
  wsPort: portValue,
  httpPort: portValue,
  tlsPort: portValue,
  wssPort: portValue,
  tlsCert: text,
  tlsKey: text,
  tcpHost: text,
  maxPacket: wholeNumber('a number of bytes'),
  maxHaveRecords: wholeNumber('a number of records'),
  maxHavePerNode: wholeNumber('a number of records'),
  allowSys: onOff,
  connectTimeoutMs: wholeNumber('a number of milliseconds'),
  maxConnections: wholeNumber('a number of connections'),
  maxConnectionsPerIp: wholeNumber('a number of connections'),
  maxIdleS: wholeNumber('a number of seconds'),
  packetTimeoutMs: wholeNumber('a number of milliseconds'),
  maxPendingMib: wholeNumber('a number of MiB'),
  maxDropsPer10s: wholeNumber('a number of dropped publishes'),
  dropCooldownS: wholeNumber('a number of seconds'),
  prefix: text,
  statsMs: wholeNumber('a number of milliseconds'),
  check: onOff,
  json: onOff,
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  logFormat: z.enum(['auto', 'pretty', 'json']),
  authFile: text,
  redis: text,
  id: text,
  heartbeatS: wholeNumber('a number of seconds'),
  fanoutMaxAgeMs: wholeNumber('a number of milliseconds'),
  metricsPort: portValue,
  metricsHost: text,
});

/** The file's values as the flags would carry them (numbers as strings). */
export type BrokerFlagValues = Partial<Omit<BrokerFlags, 'config'>>;

/** Reads and checks a broker config file; every failure is a one-line ConfigError. */
export function parseBrokerConfig(source: string, file: string): BrokerFlagValues {
  const flags: BrokerFlagValues = numbersAsStrings(parseConfigJson(brokerConfigSchema, source, file));
  checkValues(flags, file);
  return flags;
}

/** The same checks the flags get in `dameso broker`, run on the file's values alone. */
function checkValues(f: BrokerFlagValues, file: string): void {
  checkPorts(f, ['port', 'wsPort', 'httpPort', 'tlsPort', 'wssPort', 'metricsPort'], file);
  for (const key of BROKER_COUNT_KEYS) {
    const value = f[key];
    if (value !== undefined) inFile(key, file, () => parseBrokerCount(key, value));
  }
  if (f.prefix !== undefined) inFile('prefix', file, () => rootTopic(f.prefix));
  if (f.redis !== undefined) inFile('redis', file, () => parseRedisUrl(f.redis ?? ''));
  if (f.id !== undefined) inFile('id', file, () => checkBrokerId(f.id));
}

/** Reads `--config FILE` (a missing or unreadable file is a ConfigError). */
export async function readBrokerConfig(file: string): Promise<BrokerFlagValues> {
  return parseBrokerConfig(await readConfigSource(file), file);
}

const TLS_KEYS = ['tlsPort', 'tlsCert', 'tlsKey'] as const;

/**
 * Settings that only work together, once merged: when the file alone gives them, what is missing
 * is the file's fault (ConfigError naming the missing key); when any comes from the command line,
 * the flags' own usage error (exit 64) reports it at start, as without --config.
 */
function checkTogether(cmd: Command, file: string): void {
  const source = (key: string) => cmd.getOptionValueSource(key);
  const tlsSources = TLS_KEYS.map(source);
  if (tlsSources.includes('config') && !tlsSources.includes('cli')) {
    const missing = TLS_KEYS.filter((k) => cmd.getOptionValue(k) === undefined);
    if (missing[0] !== undefined) {
      throw new ConfigError(
        missing[0],
        `tlsPort, tlsCert and tlsKey go together: ${missing.join(' and ')} missing (in ${file})`,
      );
    }
  }
  if (source('wssPort') === 'config' && TLS_KEYS.every((k) => cmd.getOptionValue(k) === undefined)) {
    throw new ConfigError('wssPort', `needs tlsPort, tlsCert and tlsKey (its certificate) (in ${file})`);
  }
  if (source('metricsHost') === 'config' && cmd.getOptionValue('metricsPort') === undefined) {
    throw new ConfigError('metricsHost', `needs metricsPort (in ${file})`);
  }
}

/** The broker's flags with `--config` read and merged (command-line flags win). */
export async function applyBrokerConfig(cmd: Command): Promise<BrokerFlags> {
  const configFile = await mergeConfigFile(cmd, readBrokerConfig);
  if (configFile !== undefined) checkTogether(cmd, configFile);
  return cmd.opts<BrokerFlags>();
}

export const BROKER_CONFIG_HELP = `
Config file (--config FILE): the same settings as JSON, keys = the long flags in camelCase
("--no-check" is "check": false); a flag on the command line overrides the file.
  {
    "host": "0.0.0.0", "port": 1883, "wsPort": 8083, "authFile": "/etc/dameso/broker.users",
    "tlsPort": 8883, "wssPort": 8884,
    "tlsCert": "/etc/dameso/broker.crt", "tlsKey": "/etc/dameso/broker.key"
  }
  dameso broker --config /etc/dameso/broker.json
  dameso broker --config /etc/dameso/broker.json --port 1884 --stats-ms 0
Numbers are JSON numbers (or strings of digits); "check", "json" and "allowSys" are true or false. A missing or
unreadable file, bad JSON, an unknown key or a wrong value in it exits 78 with one line naming the
key. Paths are used as written (relative to the working directory): write them absolute.
`;

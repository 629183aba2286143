/**
 * `dameso node --config FILE`: the node's settings in a JSON file, for boards flashed in the field
 * (one file per board instead of a long systemd ExecStart). JSON because it needs no new
 * dependency and is what the rest of the repository uses (board profiles, auth files).
 *
 * The keys mirror the long flags in camelCase (`--metrics-port` → `metricsPort`). File values are
 * turned into the strings the flags would carry and put through the same parsers as the flags, so
 * a value means the same thing in both places; a flag given on the command line overrides the file.
 * Everything wrong with the file (unreadable, bad JSON, unknown key, wrong type, bad value) is a
 * ConfigError (exit 78) naming the key; a bad flag stays a usage error (exit 64).
 */
import type { Command } from 'commander';
import * as z from 'zod';
import { DamesoError } from '../errors.js';
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
import {
  checkRoles,
  type NodeFlags,
  parsePortSpec,
  parsePosition,
  parseReplicate,
  parseSimulate,
  splitList,
} from './node-flags.js';
import { parseMinResponders, parseSurveyCells, parseSurveyEvery } from './node-survey.js';
import { parsePrefix } from './prefix.js';

/** Zero or more strings: a JSON array, or one string (split on commas when `commas`). */
const stringList = (what: string, commas: boolean) =>
  z.preprocess(
    (v) => (typeof v === 'string' ? (commas ? splitList(v) : [v]) : v),
    z.array(z.string({ error: 'expected a string' }), {
      error: `expected ${what} or an array of strings`,
    }),
  );

/** One key per long flag of `dameso node` (except --config); test/cli/node-config.test.ts checks the two agree. */
export const nodeConfigSchema = z.strictObject({
  id: text,
  roles: stringList('a string "bt,mapper"', true),
  // The brokers of one cluster, tried in turn: ["mqtt://a:1883", "mqtt://b:1883"] or one "a,b" string.
  broker: z.union(
    [
      text,
      z
        .array(text)
        .min(1)
        .transform((urls) => urls.join(',')),
    ],
    {
      error: 'expected a broker URL or an array of broker URLs',
    },
  ),
  passwordFile: text,
  ca: text,
  data: text,
  device: text,
  embeddedPort: portValue,
  embeddedHost: text,
  httpPort: portValue,
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  logFormat: z.enum(['auto', 'pretty', 'json']),
  gps: text,
  sensor: stringList('a string "PATH[:BAUD]"', false),
  // An array is refused: [lat, lon] and GeoJSON's [lon, lat] both look valid in most of the world.
  position: z.union([text, z.strictObject({ lat: z.number(), lon: z.number() })], {
    error:
      'expected {"lat": 48.8566, "lon": 2.3522} or "LAT,LON" in decimal degrees (an array is ambiguous: [lat, lon] or GeoJSON [lon, lat]?)',
  }),
  simulate: stringList('a string "METRIC[,bias=N][,noise=N]"', false),
  metricsPort: portValue,
  metricsHost: text,
  replicate: wholeNumber('a replication count K, 0 = off'),
  retry: z.boolean({ error: 'expected true or false (keep trying a start the broker refuses)' }),
  // The shared contract names the period with its unit; the flag is --survey-every (see FILE_KEYS).
  surveyEveryS: z.union([z.number(), text], { error: 'expected seconds between surveys (a number, 0 = off)' }),
  survey: stringList('a string "CELL,CELL" of geohash cells or prefixes', true),
  minResponders: wholeNumber('a responder count'),
  prefix: text,
  // Testing aids (fleets): a node that never answers, or answers late; the flag is --answer-delay.
  silent: z.boolean({ error: 'expected true or false (a node that never answers: a testing aid)' }),
  answerDelayMs: wholeNumber('milliseconds before each answer (a testing aid)'),
});

/** File keys that differ from their flag's camelCase name: file key → flag attribute. */
export const FILE_KEYS: Readonly<Record<string, string>> = {
  surveyEveryS: 'surveyEvery',
  answerDelayMs: 'answerDelay',
};

export type NodeConfigFile = z.infer<typeof nodeConfigSchema>;

/** The file's values as the flags would carry them (`roles` joined, numbers as strings). */
type FlagValues = Partial<Omit<NodeFlags, 'config'>>;

/** Reads and checks a node config file; every failure is a one-line ConfigError. */
export function parseNodeConfig(source: string, file: string): FlagValues {
  const data = parseConfigJson(nodeConfigSchema, source, file);
  const { roles, position, surveyEveryS, survey, answerDelayMs, ...rest } = data;
  const flags: FlagValues = {
    ...numbersAsStrings(rest),
    ...(answerDelayMs !== undefined ? { answerDelay: String(answerDelayMs) } : {}),
    ...(surveyEveryS !== undefined ? { surveyEvery: String(surveyEveryS) } : {}),
    ...(survey !== undefined ? { survey: survey.join(',') } : {}),
    ...(roles !== undefined ? { roles: roles.join(',') } : {}),
    ...(position !== undefined
      ? { position: typeof position === 'string' ? position : `${position.lat},${position.lon}` }
      : {}),
  };
  checkValues(flags, file);
  return flags;
}

/** The same checks the flags get in `dameso node`, run on the file's values alone. */
function checkValues(f: FlagValues, file: string): void {
  if (f.roles !== undefined) inFile('roles', file, () => checkRoles(splitList(f.roles)));
  if (f.gps !== undefined) inFile('gps', file, () => parsePortSpec('--gps', f.gps ?? '', 1));
  f.sensor?.forEach((s, i) => {
    inFile(`sensor[${i}]`, file, () => parsePortSpec('--sensor', s, 1));
  });
  if (f.position !== undefined) inFile('position', file, () => parsePosition(f.position ?? ''));
  f.simulate?.forEach((s, i) => {
    inFile(`simulate[${i}]`, file, () => parseSimulate(s));
  });
  checkPorts(f, ['embeddedPort', 'httpPort', 'metricsPort'], file);
  if (f.replicate !== undefined) inFile('replicate', file, () => parseReplicate(f.replicate));
  if (f.surveyEvery !== undefined) inFile('surveyEveryS', file, () => parseSurveyEvery(f.surveyEvery ?? ''));
  if (f.survey !== undefined) inFile('survey', file, () => parseSurveyCells(f.survey));
  if (f.minResponders !== undefined) inFile('minResponders', file, () => parseMinResponders(f.minResponders ?? ''));
  if (f.prefix !== undefined) inFile('prefix', file, () => parsePrefix(f.prefix ?? ''));
}

/** Reads `--config FILE` (a missing or unreadable file is a ConfigError). */
export async function readNodeConfig(file: string): Promise<FlagValues> {
  return parseNodeConfig(await readConfigSource(file), file);
}

/** `--config` read and merged; then the one check commander cannot make any more: an id from somewhere. */
export async function applyNodeConfig(cmd: Command): Promise<NodeFlags> {
  await mergeConfigFile(cmd, readNodeConfig);
  const flags = cmd.opts<NodeFlags>();
  if (flags.id === undefined) {
    throw new DamesoError(
      'DAMESO_USAGE',
      `required option '--id <id>' not specified (give it on the command line or as "id" in the --config file)`,
    );
  }
  return flags;
}

export const CONFIG_HELP = `
Config file (--config FILE): the same settings as JSON (no extra dependency; the format the rest of
dameso uses), keys = the long flags in camelCase (but --survey-every is "surveyEveryS"); a flag on
the command line overrides the file.
  {
    "id": "pi-7", "roles": ["bt", "mapper"], "broker": "mqtt://hub:1883",
    "data": "/var/lib/dameso", "device": "pi-zero-2w", "passwordFile": "/etc/dameso/pi-7.secret",
    "sensor": ["/dev/ttyUSB0:115200"], "position": {"lat": 48.8566, "lon": 2.3522}, "metricsPort": 9464,
    "replicate": 3, "surveyEveryS": 300, "survey": ["u09tv"], "minResponders": 3, "prefix": "fleet1"
  }
  dameso node --config /etc/dameso/node.json
  dameso node --config /etc/dameso/node.json --id pi-8 --log-level debug
"roles" and "survey" are "a,b" or an array; "sensor"/"simulate" a string or an array (a flag
replaces the whole list); "position" {"lat": …, "lon": …} or "LAT,LON"; ports and counts are numbers. A
missing or unreadable file, bad JSON, an unknown key or a wrong value in it exits 78 with one line
naming the key. Paths are used as written (relative to the working directory): write them absolute.
`;

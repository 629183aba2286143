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
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError, DamesoError } from '../errors.js';
import { checkRoles, type NodeFlags, parsePortSpec, parsePosition, parseSimulate, splitList } from './node.js';

/** Zero or more strings: a JSON array, or one string (split on commas when `commas`). */
const stringList = (what: string, commas: boolean) =>
  z.preprocess(
    (v) => (typeof v === 'string' ? (commas ? splitList(v) : [v]) : v),
    z.array(z.string({ error: 'expected a string' }), {
      error: `expected ${what} or an array of strings`,
    }),
  );

// The range is checked with the other values (checkValues), in the same words for both forms.
const port = z.union([z.number(), z.string().regex(/^\d+$/)], { error: 'expected a port number in [0, 65535]' });

const text = z.string({ error: 'expected a string' }).min(1, { error: 'must not be empty' });

/** One key per long flag of `dameso node` (except --config); test/cli/node-config.test.ts checks the two agree. */
export const nodeConfigSchema = z.strictObject({
  id: text,
  roles: stringList('a string "bt,mapper"', true),
  broker: text,
  passwordFile: text,
  ca: text,
  data: text,
  device: text,
  embeddedPort: port,
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  gps: text,
  sensor: stringList('a string "PATH[:BAUD]"', false),
  position: z.union([text, z.tuple([z.number(), z.number()])], {
    error: 'expected "LAT,LON" or [LAT, LON] in decimal degrees',
  }),
  simulate: stringList('a string "METRIC[,bias=N][,noise=N]"', false),
  metricsPort: port,
  metricsHost: text,
});

export type NodeConfigFile = z.infer<typeof nodeConfigSchema>;

/** The file's values as the flags would carry them (`roles` joined, numbers as strings). */
type FlagValues = Partial<Omit<NodeFlags, 'config'>>;

/** `["a", 1]` → `a[1]`, `["roles"]` → `roles`. */
function keyPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/** zod's issues as one line naming the key (the first issue; the rest are counted). */
function oneLine(error: z.ZodError, file: string): ConfigError {
  const [first, ...rest] = error.issues;
  if (first === undefined) return new ConfigError(file, 'invalid');
  const more = rest.length > 0 ? ` (and ${rest.length} more issue${rest.length > 1 ? 's' : ''})` : '';
  if (first.code === 'unrecognized_keys') {
    const known = Object.keys(nodeConfigSchema.shape).join(', ');
    const keys = first.keys.map((k) => `"${k}"`).join(', ');
    return new ConfigError(
      keyPath([...first.path, first.keys[0] ?? '']),
      `unknown key ${keys} in ${file}; known keys: ${known}${more}`,
    );
  }
  const key = first.path.length > 0 ? keyPath(first.path) : file;
  const where = first.path.length > 0 ? ` in ${file}` : ` (${file})`;
  return new ConfigError(key, `${first.message}${where}${more}`);
}

/** Line and column of a JSON.parse error, from "at position N" when V8 gives it. */
function jsonErrorAt(message: string, source: string): string {
  const m = /at position (\d+)/.exec(message);
  if (m?.[1] === undefined) return message;
  const before = source.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${message.replace(/ in JSON at position \d+.*$/, '')} at line ${line} column ${column}`;
}

/** Reads and checks a node config file; every failure is a one-line ConfigError. */
export function parseNodeConfig(source: string, file: string): FlagValues {
  let json: unknown;
  try {
    json = JSON.parse(source.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new ConfigError(file, `not valid JSON: ${jsonErrorAt((err as Error).message, source)}`);
  }
  const parsed = nodeConfigSchema.partial().safeParse(json);
  if (!parsed.success) throw oneLine(parsed.error, file);
  const { roles, embeddedPort, metricsPort, position, ...asIs } = parsed.data;
  const flags: FlagValues = {
    ...asIs,
    ...(roles !== undefined ? { roles: roles.join(',') } : {}),
    ...(embeddedPort !== undefined ? { embeddedPort: String(embeddedPort) } : {}),
    ...(metricsPort !== undefined ? { metricsPort: String(metricsPort) } : {}),
    ...(position !== undefined ? { position: typeof position === 'string' ? position : position.join(',') } : {}),
  };
  checkValues(flags, file);
  return flags;
}

/** Runs a flag's own parser on a file value; its usage error becomes a ConfigError naming the key. */
function inFile(key: string, file: string, check: () => unknown): void {
  try {
    check();
  } catch (err) {
    if (err instanceof DamesoError && (err.code === 'DAMESO_USAGE' || err instanceof ConfigError)) {
      const msg = err.message.replace(/^(--[a-z-]+|config "[^"]*"): /, '');
      throw new ConfigError(key, `${msg} (in ${file})`);
    }
    throw err;
  }
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
  for (const key of ['embeddedPort', 'metricsPort'] as const) {
    const n = Number(f[key]);
    if (f[key] !== undefined && !(Number.isInteger(n) && n >= 0 && n <= 65_535)) {
      throw new ConfigError(key, `expected a port number in [0, 65535], got "${f[key]}" (in ${file})`);
    }
  }
}

/** Reads `--config FILE` (a missing or unreadable file is a ConfigError). */
export async function readNodeConfig(file: string): Promise<FlagValues> {
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      '--config',
      `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  return parseNodeConfig(source, file);
}

/**
 * The node's flags with `--config` applied: a file value is taken unless the same flag was given
 * on the command line (a flag's default does not override the file). Values taken from the file
 * are recorded with source `config` (commander's getOptionValueSource).
 */
export function mergeNodeConfig(cmd: Command, file: FlagValues): void {
  for (const [key, value] of Object.entries(file)) {
    if (value !== undefined && cmd.getOptionValueSource(key) !== 'cli') {
      cmd.setOptionValueWithSource(key, value, 'config');
    }
  }
}

/** `--config` read and merged; then the one check commander cannot make any more: an id from somewhere. */
export async function applyNodeConfig(cmd: Command): Promise<NodeFlags> {
  const configFile = cmd.getOptionValue('config') as string | undefined;
  if (configFile !== undefined) mergeNodeConfig(cmd, await readNodeConfig(configFile));
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
dameso uses), keys = the long flags in camelCase; a flag on the command line overrides the file.
  {
    "id": "pi-7", "roles": ["bt", "mapper"], "broker": "mqtt://hub:1883",
    "data": "/var/lib/dameso", "device": "pi-zero-2w", "passwordFile": "/etc/dameso/pi-7.secret",
    "sensor": ["/dev/ttyUSB0:115200"], "position": [48.8566, 2.3522], "metricsPort": 9464
  }
  dameso node --config /etc/dameso/node.json
  dameso node --config /etc/dameso/node.json --id pi-8 --log-level debug
"roles" is "a,b" or an array; "sensor"/"simulate" a string or an array (a flag replaces the whole
list); "position" "LAT,LON" or [LAT, LON]; ports are numbers. A missing or unreadable file, bad JSON,
an unknown key or a wrong value in it exits 78 with one line naming the key. Paths are used as written
(relative to the working directory): write them absolute.
`;

/**
 * What `dameso node --config FILE` and `dameso broker --config FILE` share: reading the JSON file,
 * checking it against a command's zod schema (one key per long flag, in camelCase), reporting the
 * first problem as one ConfigError line naming the key (exit 78), and merging the file's values
 * under the command-line flags. Each command keeps its own schema and value checks
 * (node-config.ts, broker-config.ts), run through the flags' own parsers.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import * as z from 'zod';
import { ConfigError, DamesoError } from '../errors.js';

/** A whole number as a JSON number or a string of digits; `expected` is the one message for both. */
const numberOrDigits = (expected: string) =>
  z.union([z.number(), z.string().regex(/^\d+$/, { error: expected })], { error: expected });

// The range is checked with the other values (checkPorts), in the same words for both forms.
export const portValue = numberOrDigits('expected a port number in [0, 65535]');

/** A count (bytes, milliseconds): the flag's own parser checks its range. */
export const wholeNumber = (what: string) => numberOrDigits(`expected ${what} (a whole number)`);

export const text = z.string({ error: 'expected a string' }).min(1, { error: 'must not be empty' });

/** `["a", 1]` → `a[1]`, `["roles"]` → `roles`. */
function keyPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/** zod's issues as one line naming the key (the first issue; the rest are counted). */
function oneLine(error: z.ZodError, file: string, knownKeys: readonly string[]): ConfigError {
  const [first, ...rest] = error.issues;
  if (first === undefined) return new ConfigError(file, 'invalid');
  const more = rest.length > 0 ? ` (and ${rest.length} more issue${rest.length > 1 ? 's' : ''})` : '';
  if (first.code === 'unrecognized_keys') {
    const keys = first.keys.map((k) => `"${k}"`).join(', ');
    return new ConfigError(
      keyPath([...first.path, first.keys[0] ?? '']),
      `unknown key ${keys} in ${file}; known keys: ${knownKeys.join(', ')}${more}`,
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

/** Parses `source` (JSON, a BOM allowed) and checks it against `schema`, every key optional. */
export function parseConfigJson<S extends z.ZodObject>(schema: S, source: string, file: string): Partial<z.infer<S>> {
  let json: unknown;
  try {
    json = JSON.parse(source.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new ConfigError(file, `not valid JSON: ${jsonErrorAt((err as Error).message, source)}`);
  }
  const parsed = schema.partial().safeParse(json);
  if (!parsed.success) throw oneLine(parsed.error, file, Object.keys(schema.shape));
  return parsed.data as Partial<z.infer<S>>;
}

/** The text of `--config FILE` (a missing or unreadable file is a ConfigError). */
export async function readConfigSource(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      '--config',
      `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}

/** Runs a flag's own parser on a file value; its usage error becomes a ConfigError naming the key. */
export function inFile(key: string, file: string, check: () => unknown): void {
  try {
    check();
  } catch (err) {
    if (err instanceof DamesoError && (err.code === 'DAMESO_USAGE' || err instanceof ConfigError)) {
      // "--flag: msg", "--flag msg" and 'config "key": msg' all lose their subject: the key names it.
      const msg = err.message.replace(/^(?:--[a-z-]+:?|config "[^"]*":) /, '');
      throw new ConfigError(key, `${msg} (in ${file})`);
    }
    throw err;
  }
}

/** Ports given in the file: a whole number in [0, 65535] (numbers or digit strings). */
export function checkPorts<K extends string>(values: Partial<Record<K, string>>, keys: readonly K[], file: string) {
  for (const key of keys) {
    const v = values[key];
    const n = Number(v);
    if (v !== undefined && !(Number.isInteger(n) && n >= 0 && n <= 65_535)) {
      throw new ConfigError(key, `expected a port number in [0, 65535], got "${v}" (in ${file})`);
    }
  }
}

/** A file value as the flag would carry it: numbers become strings (distributes over unions). */
type AsFlag<V> = V extends number ? string : V;

/** Numbers as the strings the flags would carry (`1883` → `"1883"`); other values as they are. */
export function numbersAsStrings<T extends Record<string, unknown>>(values: T): { [K in keyof T]: AsFlag<T[K]> } {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === 'number' ? String(v) : v])) as {
    [K in keyof T]: AsFlag<T[K]>;
  };
}

/**
 * A command's flags with `--config` applied, when it was given: the file is read with `read`, and
 * each of its values is taken unless the same flag was given on the command line (a flag's default
 * does not override the file). Values taken from the file are recorded with source `config`
 * (commander's getOptionValueSource). Returns the file's name (undefined without --config).
 */
export async function mergeConfigFile(
  cmd: Command,
  read: (file: string) => Promise<Readonly<Record<string, unknown>>>,
): Promise<string | undefined> {
  const file = cmd.getOptionValue('config') as string | undefined;
  if (file === undefined) return undefined;
  for (const [key, value] of Object.entries(await read(file))) {
    if (value !== undefined && cmd.getOptionValueSource(key) !== 'cli') {
      cmd.setOptionValueWithSource(key, value, 'config');
    }
  }
  return file;
}

/**
 * Board profiles: budgets per board as plain JSON data (boards are data, not code).
 * `loadBoard(name)` returns a validated profile or throws a `ConfigError` naming the key and the
 * fix; an unknown board lists the known ones. `generic` is the default.
 *
 * The JSON files are imported (not read at run time) so the built package carries them.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../src/errors.js';
import { AUTO_DEVICE, detectDevice } from './detect.js';
import generic from './generic.json' with { type: 'json' };
import pi3b from './pi-3b.json' with { type: 'json' };
import pi4b from './pi-4b.json' with { type: 'json' };
import pi5 from './pi-5.json' with { type: 'json' };
import pi400 from './pi-400.json' with { type: 'json' };
import piCm4 from './pi-cm4.json' with { type: 'json' };
import piZero2w from './pi-zero-2w.json' with { type: 'json' };
import { type Board, BoardSchema } from './schema.js';

export {
  AUTO_DEVICE,
  DEVICE_MODEL_FILE,
  DEVICE_MODEL_FILE_ENV,
  type DetectedDevice,
  describeDevice,
  detectDevice,
  detectionOf,
  profileForModel,
  readDeviceModel,
  scaleToRam,
} from './detect.js';
export type { Board } from './schema.js';
export { BoardSchema } from './schema.js';

/** The board used when none is named. */
export const DEFAULT_BOARD = 'generic';

const PROFILES: Readonly<Record<string, unknown>> = Object.freeze({
  'pi-zero-2w': piZero2w,
  'pi-3b': pi3b,
  'pi-4b': pi4b,
  'pi-400': pi400,
  'pi-cm4': piCm4,
  'pi-5': pi5,
  generic,
});

/** Names of the boards shipped with dameso. */
export function knownBoards(): string[] {
  return Object.keys(PROFILES);
}

/**
 * A custom profile from a JSON file (`dameso node --device ./my-board.json`): read at start-up,
 * validated like the shipped ones.
 */
export function loadBoardFile(file: string): Board {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('device', `cannot read board file ${file} (${(err as Error).message}); check the path`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('device', `board file ${file} is not JSON (${(err as Error).message}); fix the file`);
  }
  return parseBoard(data, file);
}

/**
 * Load a shipped profile by name (default `generic`), a custom one from a path ending in `.json`,
 * or `auto`: the profile of the board this runs on, scaled to its RAM (`detect.ts`).
 */
export function loadBoard(name: string = DEFAULT_BOARD): Board {
  if (name.endsWith('.json')) return loadBoardFile(name);
  if (name === AUTO_DEVICE) return detectDevice(loadShipped).board;
  return loadShipped(name);
}

function loadShipped(name: string): Board {
  const data = Object.hasOwn(PROFILES, name) ? PROFILES[name] : undefined;
  if (data === undefined) {
    throw new ConfigError(
      'device',
      `unknown board "${name}"; known boards: ${knownBoards().join(', ')}, ${AUTO_DEVICE} (detect it), or a path to a board .json file`,
    );
  }
  return parseBoard(data, name);
}

/**
 * Validate any value as a board profile (a shipped one, or a custom one read by the caller).
 * `source` names it in errors.
 */
export function parseBoard(data: unknown, source = 'board'): Board {
  const parsed = BoardSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      // Name the stray key itself (a typo of a known one, usually).
      const key = [...path, issue.keys[0] ?? '?'].join('.');
      throw new ConfigError(key, `is not a board profile key (in ${source}); remove it or fix its spelling`);
    }
    const key = path.join('.') || '(root)';
    throw new ConfigError(key, `${issue.message} in ${source}; fix that value in the profile`);
  }
  const b = parsed.data;
  check(
    b.series.ringBudgetBytes <= b.storage.budgetBytes,
    'series.ringBudgetBytes',
    source,
    `is ${b.series.ringBudgetBytes}, more than storage.budgetBytes (${b.storage.budgetBytes}); the ring is part of the storage budget: lower it`,
  );
  // economic counts series bytes: a full ring alone must not push it under the storage_full line.
  check(
    b.series.ringBudgetBytes <= (1 - b.thresholds.storageFullBelow) * b.storage.budgetBytes,
    'series.ringBudgetBytes',
    source,
    `is ${b.series.ringBudgetBytes}: a full ring alone would leave economic under thresholds.storageFullBelow ` +
      `(${b.thresholds.storageFullBelow}) of storage.budgetBytes (${b.storage.budgetBytes}) and refuse every store: lower it or raise the storage budget`,
  );
  check(
    b.series.segmentBytes * 2 <= b.series.ringBudgetBytes,
    'series.segmentBytes',
    source,
    `is ${b.series.segmentBytes}; the ring (${b.series.ringBudgetBytes}) must hold at least two segments: lower it`,
  );
  check(
    b.memory.maxOldSpaceMb * 1024 * 1024 < b.memory.budgetBytes,
    'memory.maxOldSpaceMb',
    source,
    `is ${b.memory.maxOldSpaceMb} MiB, not below memory.budgetBytes (${b.memory.budgetBytes}); the heap lives inside the RSS budget: lower it`,
  );
  const t = b.thresholds;
  for (const k of ['storageFullBelow', 'memoryLowBelow', 'rateLimitedBelow', 'cpuBusyBelow'] as const) {
    check(
      t[k] <= t.yesAbove,
      `thresholds.${k}`,
      source,
      `is ${t[k]}, above thresholds.yesAbove (${t.yesAbove}): a NO threshold must not exceed the YES one`,
    );
  }
  return b;
}

/** The node flag a board wants: pass it to `node` (or NODE_OPTIONS) when starting dameso. */
export function heapFlag(board: Board): string {
  return `--max-old-space-size=${board.memory.maxOldSpaceMb}`;
}

function check(ok: boolean, key: string, source: string, message: string): void {
  if (!ok) throw new ConfigError(key, `${message} (in ${source})`);
}

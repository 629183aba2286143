/**
 * `--device auto`: the board profile from the device tree's model string
 * (`/proc/device-tree/model`, e.g. "Raspberry Pi 4 Model B Rev 1.4"), with its memory budgets
 * scaled to the RAM this machine really has (`os.totalmem()`): a Pi 4 ships with 1 to 8 GB, and the
 * profile is sized for one of them (`ramBytes`). A machine without a device tree, or a model not
 * listed here, gets `generic`.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Board } from './schema.js';

/** The device-tree model file the kernel exposes on ARM boards. */
export const DEVICE_MODEL_FILE = '/proc/device-tree/model';
/** Environment variable naming another model file (tests, containers with a copied device tree). */
export const DEVICE_MODEL_FILE_ENV = 'DAMESO_DEVICE_MODEL_FILE';
/** The `--device` value that asks for detection. */
export const AUTO_DEVICE = 'auto';
/** Memory budgets never grow past this multiple of the profile's (a 16 GB board is no reason to hold 16x). */
export const MAX_RAM_SCALE = 4;
/** Nor shrink under this fraction (below it the board is not the one the profile describes). */
export const MIN_RAM_SCALE = 0.25;
/** The profile for any machine the table does not name. */
const FALLBACK_PROFILE = 'generic';

/** Model string prefixes → profile; the first match wins. */
const MODEL_PROFILES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^Raspberry Pi Zero 2 W\b/, 'pi-zero-2w'],
  [/^Raspberry Pi 3 Model B Plus\b/, 'pi-3b'],
  [/^Raspberry Pi 3 Model B\b/, 'pi-3b'],
  [/^Raspberry Pi 4 Model B\b/, 'pi-4b'],
  [/^Raspberry Pi 400\b/, 'pi-400'],
  [/^Raspberry Pi Compute Module 4\b/, 'pi-cm4'],
  [/^Raspberry Pi 5\b/, 'pi-5'],
];

export interface DetectedDevice {
  /** The profile, its memory budgets scaled to `ramBytes`. */
  board: Board;
  /** The model string read (NUL and spaces trimmed), or null when there is no model file. */
  model: string | null;
  /** The RAM the budgets were scaled to, bytes. */
  ramBytes: number;
  /** The factor applied to the profile's memory budgets (1 when it has no `ramBytes`). */
  scale: number;
}

/** The profile name for a model string; `generic` for null or an unlisted model. */
export function profileForModel(model: string | null): string {
  if (model === null) return FALLBACK_PROFILE;
  return MODEL_PROFILES.find(([re]) => re.test(model))?.[1] ?? FALLBACK_PROFILE;
}

/** The model string of `file` (default: the env variable's, else the device tree's); null when unreadable. */
export function readDeviceModel(file: string = process.env[DEVICE_MODEL_FILE_ENV] ?? DEVICE_MODEL_FILE): string | null {
  try {
    // The device tree's strings end in NUL.
    const model = readFileSync(file, 'utf8').replace(/\0+$/, '').trim();
    return model === '' ? null : model;
  } catch {
    return null;
  }
}

/**
 * The board's memory budgets (RSS budget and heap) times totalRam / the profile's `ramBytes`,
 * clamped to [MIN_RAM_SCALE, MAX_RAM_SCALE]. Everything else (storage, CPU, series, intents) is
 * kept: RAM is what differs between variants of one board.
 */
export function scaleToRam(board: Board, ramBytes: number): { board: Board; scale: number } {
  if (board.ramBytes === undefined || !(ramBytes > 0)) return { board, scale: 1 };
  const scale = Math.min(MAX_RAM_SCALE, Math.max(MIN_RAM_SCALE, ramBytes / board.ramBytes));
  if (scale === 1) return { board, scale };
  const MiB = 1024 * 1024;
  const budgetBytes = Math.round((board.memory.budgetBytes * scale) / MiB) * MiB;
  const maxOldSpaceMb = Math.max(1, Math.floor(board.memory.maxOldSpaceMb * scale));
  return { board: { ...board, memory: { budgetBytes, maxOldSpaceMb } }, scale };
}

/** Detects the board: its profile (loaded by `load`), scaled to this machine's RAM. */
export function detectDevice(
  load: (profile: string) => Board,
  options: { modelFile?: string; ramBytes?: number } = {},
): DetectedDevice {
  const model = options.modelFile === undefined ? readDeviceModel() : readDeviceModel(options.modelFile);
  const ramBytes = options.ramBytes ?? os.totalmem();
  const { board, scale } = scaleToRam(load(profileForModel(model)), ramBytes);
  const detected = { board, model, ramBytes, scale };
  DETECTED.set(board, detected);
  return detected;
}

/** Boards made by `detectDevice`, so the node can record what was detected beside the profile name. */
const DETECTED = new WeakMap<Board, DetectedDevice>();

/** What `detectDevice` found for this board object; undefined for a board named or read from a file. */
export function detectionOf(board: Board): DetectedDevice | undefined {
  return DETECTED.get(board);
}

/** `Raspberry Pi 4 Model B Rev 1.4, 3.7 GiB RAM, memory budget 1.4 GiB` (no model file: `no device-tree model`). */
export function describeDevice(d: { model: string | null; ramBytes: number; memoryBudgetBytes: number }): string {
  const gib = (n: number): string => `${(n / 1024 ** 3).toFixed(1)} GiB`;
  return `${d.model ?? 'no device-tree model'}, ${gib(d.ramBytes)} RAM, memory budget ${gib(d.memoryBudgetBytes)}`;
}

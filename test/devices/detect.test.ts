/**
 * `--device auto`: the profile from a real device-tree model file (named by DAMESO_DEVICE_MODEL_FILE
 * for the child processes), memory budgets scaled to the RAM given.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEVICE_MODEL_FILE_ENV,
  detectDevice,
  detectionOf,
  loadBoard,
  profileForModel,
  readDeviceModel,
  scaleToRam,
} from '../../devices/boards/index.js';

const run = promisify(execFile);
const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');
const TSX = join(import.meta.dirname, '../../node_modules/.bin/tsx');
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
let dir: string;

/** A model file as the kernel writes it: the string and a trailing NUL. */
async function modelFile(name: string, model: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `${model}\0`);
  return file;
}

beforeAll(async () => {
  dir = await mkdtemp(join(os.tmpdir(), 'dameso-detect-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('device detection', () => {
  it('maps each listed Raspberry Pi model string to its profile, anything else to generic', () => {
    const cases: Array<[string | null, string]> = [
      ['Raspberry Pi Zero 2 W Rev 1.0', 'pi-zero-2w'],
      ['Raspberry Pi 3 Model B Rev 1.2', 'pi-3b'],
      ['Raspberry Pi 3 Model B Plus Rev 1.3', 'pi-3b'],
      ['Raspberry Pi 4 Model B Rev 1.4', 'pi-4b'],
      ['Raspberry Pi 400 Rev 1.0', 'pi-400'],
      ['Raspberry Pi Compute Module 4 Rev 1.0', 'pi-cm4'],
      ['Raspberry Pi 5 Model B Rev 1.0', 'pi-5'],
      ['Raspberry Pi Zero W Rev 1.1', 'generic'],
      ['Pine64 RockPro64', 'generic'],
      [null, 'generic'],
    ];
    for (const [model, profile] of cases) expect(profileForModel(model), String(model)).toBe(profile);
  });

  it('reads the model file without its NUL; a missing file reads as no model', async () => {
    expect(readDeviceModel(await modelFile('m1', 'Raspberry Pi 5 Model B Rev 1.0'))).toBe(
      'Raspberry Pi 5 Model B Rev 1.0',
    );
    expect(readDeviceModel(join(dir, 'absent'))).toBeNull();
  });

  it('scales the memory budgets to the RAM the board has, within x0.25..x4, and keeps the rest', async () => {
    const file = await modelFile('pi4', 'Raspberry Pi 4 Model B Rev 1.4');
    const pi4 = loadBoard('pi-4b');
    const at4g = detectDevice(loadBoard, { modelFile: file, ramBytes: 4 * GiB });
    expect(at4g.board.board).toBe('pi-4b');
    expect(at4g.scale).toBe(2);
    expect(at4g.board.memory).toEqual({ budgetBytes: 2 * pi4.memory.budgetBytes, maxOldSpaceMb: 1024 });
    expect(at4g.board.storage).toEqual(pi4.storage);
    expect(at4g.board.intents).toEqual(pi4.intents);
    expect(detectionOf(at4g.board)?.model).toBe('Raspberry Pi 4 Model B Rev 1.4');
    expect(detectionOf(pi4)).toBeUndefined();
    // A 1 GB Pi 4 gets half; a 64 GB box no more than 4x.
    expect(detectDevice(loadBoard, { modelFile: file, ramBytes: GiB }).board.memory.maxOldSpaceMb).toBe(256);
    expect(scaleToRam(pi4, 64 * GiB).scale).toBe(4);
    expect(scaleToRam(pi4, 64 * MiB).scale).toBe(0.25);
    // The heap stays inside the RSS budget after scaling.
    for (const ram of [300 * MiB, GiB, 3 * GiB, 7.6 * GiB]) {
      const m = scaleToRam(loadBoard('pi-zero-2w'), ram).board.memory;
      expect(m.maxOldSpaceMb * MiB).toBeLessThan(m.budgetBytes);
    }
  });

  it('`dameso limits --device auto` uses the profile of the model file named in the environment', async () => {
    const file = await modelFile('zero', 'Raspberry Pi Zero 2 W Rev 1.0');
    const env = { ...process.env, [DEVICE_MODEL_FILE_ENV]: file };
    const { stdout } = await run(TSX, [MAIN, 'limits', '--device', 'auto', '--ms', '100', '--json'], { env });
    const out = JSON.parse(stdout) as { board: string; budgets: { memory: { rssBudgetBytes: number } } };
    expect(out.board).toBe('pi-zero-2w');
    const expected = scaleToRam(loadBoard('pi-zero-2w'), os.totalmem()).board.memory.budgetBytes;
    expect(out.budgets.memory.rssBudgetBytes).toBe(expected);
  });
});

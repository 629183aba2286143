import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BOARD, heapFlag, knownBoards, loadBoard, parseBoard } from '../../devices/boards/index.js';
import { ConfigError } from '../../src/errors.js';

describe('board profiles', () => {
  it('ships the seven boards, generic is the default, each valid and named after itself', () => {
    expect(knownBoards().sort()).toEqual(['generic', 'pi-3b', 'pi-400', 'pi-4b', 'pi-5', 'pi-cm4', 'pi-zero-2w']);
    expect(DEFAULT_BOARD).toBe('generic');
    expect(loadBoard().board).toBe('generic');
    for (const name of knownBoards()) expect(loadBoard(name).board).toBe(name);
  });

  it('budgets grow with the board (zero 2w < 3b < 4b < 5)', () => {
    const order = ['pi-zero-2w', 'pi-3b', 'pi-4b', 'pi-5'].map((n) => loadBoard(n));
    for (let i = 1; i < order.length; i++) {
      expect(order[i]!.memory.budgetBytes).toBeGreaterThan(order[i - 1]!.memory.budgetBytes);
      expect(order[i]!.storage.budgetBytes).toBeGreaterThan(order[i - 1]!.storage.budgetBytes);
      expect(order[i]!.intents.capacityPerWindow).toBeGreaterThan(order[i - 1]!.intents.capacityPerWindow);
    }
    expect(heapFlag(loadBoard('pi-zero-2w'))).toBe('--max-old-space-size=96');
  });

  it('the README table states the budgets of each board as the JSON does', async () => {
    const readme = await readFile(join(import.meta.dirname, '../../devices/boards/README.md'), 'utf8');
    for (const name of knownBoards()) {
      const b = loadBoard(name);
      const row = readme
        .split('\n')
        .find((l) => l.startsWith(`| \`${name}\``))
        ?.replace(/ +/g, ' ');
      expect(row, name).toBeDefined();
      expect(row).toContain(`${b.memory.maxOldSpaceMb} MiB |`);
      expect(row).toContain(`${b.intents.capacityPerWindow} per ${b.intents.windowMs / 1000} s`);
      expect(row).toContain(`${b.cpu.budgetCores} cores, loop p90 ${b.cpu.loopDelayBudgetMs} ms`);
    }
  });

  it('an unknown board is a ConfigError listing the known boards', () => {
    expect(() => loadBoard('pi-6')).toThrow(ConfigError);
    expect(() => loadBoard('pi-6')).toThrow(/unknown board "pi-6"; known boards: .*pi-4b.*generic/);
    expect(() => loadBoard('__proto__')).toThrow(ConfigError);
  });

  it('a bad value names the key and the fix', () => {
    const good = loadBoard('pi-4b');
    const bad = { ...good, cpu: { ...good.cpu, budgetCores: -1 } };
    try {
      parseBoard(bad, 'my.json');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).key).toBe('cpu.budgetCores');
      expect((err as ConfigError).code).toBe('DAMESO_BAD_CONFIG');
      expect((err as Error).message).toMatch(/my\.json; fix that value/);
    }
    expect(() => parseBoard({ ...good, extra: 1 })).toThrow(/config "extra": is not a board profile key/);
    expect(() => parseBoard({ ...good, cpu: { ...good.cpu, budgetCore: 1 } })).toThrow(/config "cpu\.budgetCore"/);
    const { memory: _m, ...noMemory } = good;
    expect(() => parseBoard(noMemory)).toThrow(/config "memory"/);
  });

  it('loads a custom board from a .json file, with clear errors for a bad path or bad JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dameso-board-'));
    try {
      const file = join(dir, 'my-board.json');
      await writeFile(file, JSON.stringify({ ...loadBoard('pi-4b'), board: 'my-board' }));
      expect(loadBoard(file).board).toBe('my-board');
      await writeFile(file, '{ nope');
      expect(() => loadBoard(file)).toThrow(/is not JSON/);
      expect(() => loadBoard(join(dir, 'missing.json'))).toThrow(/cannot read board file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('cross-field checks: ring inside storage, two segments, heap inside RSS, NO thresholds under YES', () => {
    const g = loadBoard('generic');
    expect(() => parseBoard({ ...g, series: { ...g.series, ringBudgetBytes: g.storage.budgetBytes * 2 } })).toThrow(
      /series\.ringBudgetBytes/,
    );
    expect(() => parseBoard({ ...g, series: { ...g.series, ringBudgetBytes: g.storage.budgetBytes } })).toThrow(
      /a full ring alone would leave economic under/,
    );
    expect(() => parseBoard({ ...g, series: { ...g.series, segmentBytes: g.series.ringBudgetBytes } })).toThrow(
      /series\.segmentBytes/,
    );
    expect(() => parseBoard({ ...g, memory: { ...g.memory, maxOldSpaceMb: 4096 } })).toThrow(/memory\.maxOldSpaceMb/);
    expect(() => parseBoard({ ...g, thresholds: { ...g.thresholds, cpuBusyBelow: 0.8 } })).toThrow(
      /thresholds\.cpuBusyBelow/,
    );
  });
});

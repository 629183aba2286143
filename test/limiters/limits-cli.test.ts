import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');
const TSX = join(import.meta.dirname, '../../node_modules/.bin/tsx');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dameso-limits-cli-'));
  await writeFile(join(dir, 'data.bin'), Buffer.alloc(1024 * 1024, 7));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dameso limits', () => {
  it('prints the live values and budgets of the board as one JSON object', async () => {
    const { stdout } = await run(TSX, [MAIN, 'limits', '--device', 'pi-4b', '--data', dir, '--json', '--ms', '200']);
    const out = JSON.parse(stdout) as {
      board: string;
      values: Record<string, number>;
      budgets: { economic: { usedBytes: number; budgetBytes: number } };
      runWith: string;
    };
    expect(out.board).toBe('pi-4b');
    expect(Object.keys(out.values).sort()).toEqual([
      'cpu',
      'economic',
      'memory',
      'objective',
      'topology',
      'w_tracking',
    ]);
    for (const v of Object.values(out.values)) expect(v >= 0 && v <= 1).toBe(true);
    expect(out.budgets.economic.usedBytes).toBe(1024 * 1024); // the real bytes in the data folder
    expect(out.budgets.economic.budgetBytes).toBe(8 * 1024 ** 3);
    expect(out.runWith).toBe('--max-old-space-size=512');
  });

  it('an unknown board exits 78 listing the known boards', async () => {
    const err = await run(TSX, [MAIN, 'limits', '--device', 'pi-6']).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(78);
    expect((err as { stderr: string }).stderr).toMatch(/known boards: pi-zero-2w, pi-3b, pi-4b, pi-5, generic/);
  });
});

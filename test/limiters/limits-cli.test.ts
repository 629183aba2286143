import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITER_CONFIG_EVENT } from '../../src/limiters/constants.js';
import { DEFAULT_THRESHOLDS } from '../../src/limiters/policy.js';
import { limitersView } from '../../src/limiters/view.js';
import { createSeries } from '../../src/series/index.js';
import type { View } from '../../src/series/types.js';

const run = promisify(execFile);
const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');
const TSX = join(import.meta.dirname, '../../node_modules/.bin/tsx');
let dir: string;
let seriesBytes = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dameso-limits-cli-'));
  await writeFile(join(dir, 'data.bin'), Buffer.alloc(1024 * 1024, 7));
  // A node's series with a recorded limiter history (what a node with limiters writes).
  const series = createSeries({
    dir: join(dir, 'series'),
    durability: 'always',
    views: [limitersView as View<unknown>],
  });
  await series.open();
  await series.append({ event: LIMITER_CONFIG_EVENT, board: 'pi-4b', thresholds: { ...DEFAULT_THRESHOLDS } });
  const lim = { economic: 0.1, cpu: 1, memory: 1, w_tracking: 1, objective: 1, topology: 1 };
  await series.append({
    event: 'decision',
    id: 'a',
    kind: 'store_chunk',
    from: 'x',
    r: 'no',
    reason: 'storage_full',
    lim,
    outcome: 'no',
  });
  await series.append({
    event: 'decision',
    id: 'b',
    kind: 'want_chunk',
    from: 'x',
    r: 'yes',
    lim: { ...lim, economic: 0.9 },
    outcome: 'yes',
  });
  await series.close();
  seriesBytes = 0;
  for (const f of await readdir(join(dir, 'series'))) seriesBytes += (await stat(join(dir, 'series', f))).size;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dameso limits', () => {
  it('prints the live values and budgets of the board as one JSON object', async () => {
    const { stdout } = await run(TSX, [
      MAIN,
      'limits',
      '--device',
      'pi-4b',
      '--data',
      dir,
      '--json',
      '--ms',
      '200',
      '--replay',
    ]);
    const out = JSON.parse(stdout) as {
      board: string;
      values: Record<string, number>;
      budgets: { economic: { usedBytes: number; budgetBytes: number } };
      runWith: string;
      recorded: {
        tally: { decisions: number; no: Record<string, number> };
        replay: { matched: number; decisions: number };
      };
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
    expect(out.budgets.economic.usedBytes).toBe(1024 * 1024 + seriesBytes); // the real bytes in the data folder
    expect(out.budgets.economic.budgetBytes).toBe(8 * 1024 ** 3);
    expect(out.runWith).toBe('--max-old-space-size=512');
    expect(out.recorded.tally).toMatchObject({ decisions: 2, no: { storage_full: 1 } });
    expect(out.recorded.replay).toMatchObject({ decisions: 2, matched: 2 });
  });

  it('an unknown board exits 78 listing the known boards', async () => {
    const err = await run(TSX, [MAIN, 'limits', '--device', 'pi-6']).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(78);
    expect((err as { stderr: string }).stderr).toMatch(
      /known boards: pi-zero-2w, pi-3b, pi-4b, pi-400, pi-cm4, pi-5, generic, auto/,
    );
  });
});

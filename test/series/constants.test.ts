/** Documented defaults are the code's (a README drifts from its constants unless a test holds it). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as series from '../../src/series/index.js';

describe('series constants', () => {
  it('has the documented defaults, exported from the index', () => {
    expect(series.DEFAULT_BATCH_WINDOW_MS).toBe(10);
    expect(series.DEFAULT_BATCH_MAX_BYTES).toBe(64 * 1024);
    expect(series.DEFAULT_SEGMENT_BYTES).toBe(4 * 1024 * 1024);
    expect(series.DEFAULT_BUDGET_BYTES).toBe(64 * 1024 * 1024);
    expect(series.MAX_ENTRY_BYTES).toBe(1024 * 1024 + 64 * 1024);
    expect(series.FORMAT_VERSION).toBe(1);
    expect(series.DEFAULT_BUDGET_BYTES).toBeGreaterThanOrEqual(2 * series.DEFAULT_SEGMENT_BYTES);
  });

  it('the CLI help states the same defaults', async () => {
    const cli = await readFile(join(import.meta.dirname, '../../src/cli/series.ts'), 'utf8');
    expect(cli).toContain(`batch window in ms (default ${series.DEFAULT_BATCH_WINDOW_MS})`);
    expect(cli).toContain(`segment size (default ${series.DEFAULT_SEGMENT_BYTES / 1024 / 1024} MiB)`);
    expect(cli).toContain(`ring budget (default ${series.DEFAULT_BUDGET_BYTES / 1024 / 1024} MiB`);
  });
});

describe('series options', () => {
  it('bad configuration throws at creation, naming the key', () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ durability: 'sometimes' }, 'durability'],
      [{ segmentBytes: 100 }, 'segmentBytes'],
      [{ segmentBytes: 8192, budgetBytes: 10_000 }, 'budgetBytes'],
      [{ batchWindowMs: -1 }, 'batchWindowMs'],
      [{ maxEntryBytes: 0 }, 'maxEntryBytes'],
    ];
    for (const [o, key] of bad) {
      expect(() => series.createSeries({ dir: '/tmp/never-created', ...o })).toThrow(
        expect.objectContaining({ code: 'DAMESO_BAD_CONFIG', key }),
      );
    }
  });
});

/** Documented defaults are the code's. */
import { describe, expect, it } from 'vitest';
import * as C from '../../src/chunks/constants.js';

describe('chunks constants', () => {
  it('match what the options document', () => {
    expect(C.DEFAULT_STORE_BUDGET_BYTES).toBe(64 * 1024 * 1024);
    expect(C.DEFAULT_MAX_CHUNK_BYTES).toBe(768 * 1024);
    expect(C.DEFAULT_MAX_CHUNKS).toBe(65_536);
    expect(C.DEFAULT_CACHE_BYTES).toBe(8 * 1024 * 1024);
    expect(C.DEFAULT_CHUNK_MAX_ENTRIES).toBe(1024);
    expect(C.DEFAULT_CHUNK_MAX_BYTES).toBe(64 * 1024);
    expect(C.DEFAULT_REPLICAS).toBe(3);
    expect(C.DEFAULT_PUSH_DEADLINE_MS).toBe(5_000);
    expect(C.DEFAULT_PUSH_WINDOW).toBe(4);
    expect(C.DEFAULT_PULL_WINDOW).toBe(4);
    expect(C.DEFAULT_FETCH_DEADLINE_MS).toBe(3_000);
    expect(C.DEFAULT_HAVE_QUIET_MS).toBe(60);
    expect(C.DEFAULT_HAVE_MAX_WAIT_MS).toBe(1_000);
    expect(C.DEFAULT_REPLICATE).toBe(3);
    expect(C.BACKUP_ROUND_MS).toBe(3_000);
    expect(C.BACKUP_ROUND_MAX_CHUNKS).toBe(8);
    expect(C.BACKUP_PUSH_WINDOW).toBe(1);
    expect(C.BACKUP_PARTIAL_AFTER_MS).toBe(60_000);
    expect(C.BACKUP_ENTRY_MIN_GAP_MS).toBe(30_000);
  });

  it('a maximum chunk plus its envelope fits the 1 MiB payload cap of the wire', () => {
    expect(C.DEFAULT_MAX_CHUNK_BYTES + 4096).toBeLessThan(1024 * 1024);
  });
});

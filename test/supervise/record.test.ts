/**
 * Crashes at start and safe mode on real files (a manual clock for the windows): unsettled starts
 * count as crashes, the third within the window puts the next start in safe mode, a clean run
 * clears the record, a clean stop settles its own start; the boot retry's backoff and what it retries.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { ConfigError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import {
  BOOT_RETRY_MAX_MS,
  BootRetry,
  beginStart,
  bootRetryDelayMs,
  CLEAN_RUN_MS,
  CRASH_WINDOW_MS,
  isBootRefusal,
  readRecord,
  recordPath,
} from '../../src/supervise/index.js';
import {
  BrokerNotAuthorizedError,
  BrokerPrefixMismatchError,
  BrokerUnreachableError,
} from '../../src/transport/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(os.tmpdir(), 'dameso-supervise-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('crash record', () => {
  it('three starts that never settled within 10 min put the fourth in safe mode', async () => {
    const clock = createManualClock();
    for (let i = 0; i < 3; i++) {
      const s = await beginStart({ dataDir: dir, clock, log: silentLogger });
      expect(s.safeMode).toBeUndefined();
      clock.advance(60_000); // the process died during its start: nothing settles it
    }
    const fourth = await beginStart({ dataDir: dir, clock, log: silentLogger });
    expect(fourth.safeMode).toMatchObject({ crashes: 3, windowMs: CRASH_WINDOW_MS });
    expect((await readRecord(dir)).safeMode).toMatchObject({ crashes: 3 });
    // Written atomically: no temporary file is left beside it.
    expect(await readdir(dir)).toEqual(['supervise.json']);
  });

  it('crashes older than the window do not count; a clean stop settles its own start', async () => {
    const clock = createManualClock();
    for (let i = 0; i < 3; i++) await beginStart({ dataDir: dir, clock, log: silentLogger });
    clock.advance(CRASH_WINDOW_MS + 1);
    const s = await beginStart({ dataDir: dir, clock, log: silentLogger });
    expect(s.safeMode).toBeUndefined();
    await s.settle();
    expect((await readRecord(dir)).starts).toHaveLength(3);
  });

  it('a clean run online clears the record; in safe mode it does not', async () => {
    const clock = createManualClock();
    for (let i = 0; i < 2; i++) await beginStart({ dataDir: dir, clock, log: silentLogger });
    const s = await beginStart({ dataDir: dir, clock, log: silentLogger });
    await s.noteRefusal({ code: 'DAMESO_BAD_CONFIG', message: 'refused', attempt: 1, nextDelayMs: 1000 });
    expect((await readRecord(dir)).boot.total).toBe(1);
    s.online();
    clock.advance(CLEAN_RUN_MS - 1);
    expect((await readRecord(dir)).starts).toHaveLength(3);
    clock.advance(1);
    await s.settle(); // waits for the pending write
    expect(await readRecord(dir)).toMatchObject({ starts: [], safeMode: null, boot: { total: 0, last: null } });

    for (let i = 0; i < 3; i++) await beginStart({ dataDir: dir, clock, log: silentLogger });
    const safe = await beginStart({ dataDir: dir, clock, log: silentLogger });
    expect(safe.safeMode).toBeDefined();
    safe.online();
    clock.advance(CLEAN_RUN_MS);
    expect((await readRecord(dir)).starts).toHaveLength(4);
  });

  it('an unreadable or foreign record reads as empty', async () => {
    await writeFile(recordPath(dir), '{ not json');
    expect(await readRecord(dir)).toMatchObject({ starts: [], safeMode: null });
    await writeFile(recordPath(dir), '{"starts":["x",5]}');
    expect((await readRecord(dir)).starts).toEqual([5]);
  });
});

describe('boot retry', () => {
  it('backs off 1 s, 2 s, 4 s … up to 60 s', () => {
    expect([1, 2, 3, 4].map((n) => bootRetryDelayMs(n))).toEqual([1000, 2000, 4000, 8000]);
    expect(bootRetryDelayMs(7)).toBe(BOOT_RETRY_MAX_MS);
    expect(bootRetryDelayMs(500)).toBe(BOOT_RETRY_MAX_MS);
  });

  it('retries the broker refusals only; a config error ends it at once', async () => {
    expect(isBootRefusal(new BrokerNotAuthorizedError('mqtt://h:1', 'n', 5))).toBe(true);
    expect(isBootRefusal(new BrokerUnreachableError('mqtt://h:1', 10))).toBe(true);
    expect(isBootRefusal(new BrokerPrefixMismatchError('mqtt://h:1', 'n', 5, 'dameso/v1'))).toBe(true);
    expect(isBootRefusal(new ConfigError('roles', 'bad'))).toBe(false);

    const clock = createManualClock();
    const errors = [new BrokerUnreachableError('mqtt://h:1', 10), new ConfigError('roles', 'bad')];
    const refusals: number[] = [];
    const retry = new BootRetry({
      clock,
      log: silentLogger,
      create: () => ({
        brokerUrl: 'mqtt://h:1',
        start: () => Promise.reject(errors.shift()),
        stop: () => Promise.resolve(),
      }),
      onRefusal: (r) => {
        refusals.push(r.nextDelayMs);
        // Once the retry waits on its timer (after this returns), its delay passes.
        setImmediate(() => clock.advance(r.nextDelayMs));
      },
    });
    await expect(retry.start()).rejects.toBeInstanceOf(ConfigError);
    expect(refusals).toEqual([1000]);
  });
});

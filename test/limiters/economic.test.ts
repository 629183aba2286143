import { mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createManualClock, systemClock } from '../../src/clock.js';
import { createDirUsage } from '../../src/limiters/dir-usage.js';
import { createEconomic } from '../../src/limiters/economic.js';

const MiB = 1024 * 1024;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dameso-economic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('economic', () => {
  it('writing real bytes into the data folder lowers it, down to 0 at the budget', async () => {
    const usage = createDirUsage({ dir, clock: systemClock });
    const eco = createEconomic({
      clock: systemClock,
      usedBytes: usage.bytes,
      dir,
      budgetBytes: 4 * MiB,
      reserveBytes: 0,
    });
    await eco.start();
    await usage.scan();
    expect(eco.value()).toBe(1);
    await writeFile(join(dir, 'a.bin'), Buffer.alloc(1 * MiB, 1));
    await usage.scan();
    expect(eco.value()).toBeCloseTo(0.75, 2);
    await writeFile(join(dir, 'b.bin'), Buffer.alloc(2 * MiB, 2));
    await usage.scan();
    expect(eco.value()).toBeCloseTo(0.25, 2);
    await writeFile(join(dir, 'c.bin'), Buffer.alloc(1 * MiB, 3));
    await usage.scan();
    expect(eco.value()).toBe(0);
    expect(eco.headroomBytes()).toBe(0);
    eco.stop();
  });

  it('real free space from statfs binds when the reserve eats it', async () => {
    const s = await statfs(dir);
    const free = s.bavail * s.bsize;
    // a reserve just above what is free: the node may not write at all, whatever its budget
    const tight = createEconomic({
      clock: systemClock,
      usedBytes: () => 0,
      dir,
      budgetBytes: 1024 * MiB,
      reserveBytes: free + 10 * 1024 * MiB,
    });
    await tight.start();
    expect(tight.value()).toBe(0);
    expect(tight.detail().freeBytes).toBeGreaterThan(0);
    tight.stop();
    const loose = createEconomic({
      clock: systemClock,
      usedBytes: () => 0,
      dir,
      budgetBytes: 1 * MiB,
      reserveBytes: 0,
    });
    await loose.start();
    expect(loose.value()).toBe(1);
    loose.stop();
  });

  it('statfs runs on the timer, not per decision', async () => {
    const clock = createManualClock();
    const eco = createEconomic({ clock, usedBytes: () => 0, dir, budgetBytes: MiB, statfsEveryMs: 1000 });
    expect(clock.pendingTimers()).toBe(0); // nothing before start (no I/O in constructors)
    await eco.start();
    expect(clock.pendingTimers()).toBe(1);
    for (let i = 0; i < 1000; i++) eco.value(); // no statfs here: value() only reads the cache
    eco.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a missing data folder does not throw: the budget alone decides', async () => {
    const eco = createEconomic({
      clock: systemClock,
      usedBytes: () => MiB / 2,
      dir: join(dir, 'nope'),
      budgetBytes: MiB,
    });
    await eco.start();
    expect(eco.value()).toBeCloseTo(0.5);
    eco.stop();
  });
});

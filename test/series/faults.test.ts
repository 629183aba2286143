/**
 * Real disk faults: ENOSPC on a small tmpfs, EROFS on a read-only remount (we run as root in this
 * sandbox; where mounting is not permitted these tests are skipped, saying why), and a write error
 * from a file descriptor pulled from under the series.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSeries, type Entry, type Series } from '../../src/series/index.js';
import { verifySeries } from '../../src/series/verify.js';
import { readAll } from '../helpers/series-files.js';
import { withTmpDir } from '../helpers/series-tmp.js';

function canMount(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'dameso-mnt-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const MOUNT = canMount();
const NO_MOUNT = 'mount(8) of a tmpfs is not permitted here (needs root / CAP_SYS_ADMIN)';

async function withTmpfs(sizeBytes: number, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dameso-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', dir]);
  try {
    await fn(dir);
  } finally {
    execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Append until the first rejection; returns the entries that resolved and the error. */
async function fill(s: Series, size: number): Promise<{ ok: Entry[]; err: unknown }> {
  const ok: Entry[] = [];
  const data = new Uint8Array(size).fill(1);
  for (let i = 0; i < 100_000; i++) {
    try {
      ok.push(await s.append({ event: 'fill', i, data }));
    } catch (err) {
      return { ok, err };
    }
  }
  return { ok, err: undefined };
}

describe('series disk faults', () => {
  it.skipIf(!MOUNT)(`ENOSPC: typed error, series fails, nothing durable lost ${MOUNT ? '' : NO_MOUNT}`, async () => {
    await withTmpfs(256 * 1024, async (mnt) => {
      const dir = join(mnt, 's');
      for (const durability of ['always', 'batch'] as const) {
        const s = createSeries({ dir, durability, batchWindowMs: 1, segmentBytes: 64 * 1024, budgetBytes: 4 << 20 });
        await s.open();
        const { ok, err } = await fill(s, 2000);
        expect(err).toMatchObject({ code: 'DAMESO_NO_SPACE' });
        // Failed for good: no retry as if nothing happened.
        await expect(s.append({ event: 'after' })).rejects.toMatchObject({ code: 'DAMESO_NO_SPACE' });
        await s.close();
        // Reopen (cuts any partial record; cutting frees space), everything acknowledged is there.
        const all = await readAll(dir);
        const seqs = new Set(all.map((e) => e.seq));
        for (const e of ok) expect(seqs.has(e.seq)).toBe(true);
        const v = await verifySeries(dir);
        expect(v.sound).toBe(true);
        execFileSync('sh', ['-c', `rm -rf ${dir}`]);
      }
    });
  });

  it.skipIf(!MOUNT)(
    `EROFS: writable open refused with a typed error, reads still work ${MOUNT ? '' : NO_MOUNT}`,
    async () => {
      await withTmpfs(1024 * 1024, async (mnt) => {
        const dir = join(mnt, 's');
        const s = createSeries({ dir, durability: 'always' });
        await s.open();
        for (let i = 0; i < 10; i++) await s.append({ event: 'e', i });
        await s.close();
        execFileSync('mount', ['-o', 'remount,ro', mnt]);
        await expect(createSeries({ dir }).open()).rejects.toMatchObject({ code: 'DAMESO_READ_ONLY' });
        const all = await readAll(dir);
        expect(all.length).toBe(11);
        expect((await verifySeries(dir)).sound).toBe(true);
        execFileSync('mount', ['-o', 'remount,rw', mnt]);
      });
    },
  );

  it('a write error (descriptor pulled from under the series) fails it with DAMESO_IO; reopen recovers', async () => {
    await withTmpDir(async (dir) => {
      const s = createSeries({ dir, durability: 'always' });
      await s.open();
      await s.append({ event: 'before' });
      // Reach the private committer: the only way to make a real write fail on a healthy disk.
      const active = (s as unknown as { committer: { active: { fh: { close(): Promise<void> } } } }).committer.active;
      await active.fh.close();
      await expect(s.append({ event: 'lost' })).rejects.toMatchObject({ code: 'DAMESO_IO' });
      await expect(s.append({ event: 'later' })).rejects.toMatchObject({ code: 'DAMESO_IO' });
      await s.close();
      const again = createSeries({ dir, durability: 'always' });
      const rep = await again.open();
      expect(rep.lastSeq).toBe(2);
      expect((await again.append({ event: 'next' })).seq).toBe(3);
      await again.close();
    });
  });
  it('record: a write failure after the call is heard once by onFailure; later records throw it', async () => {
    await withTmpDir(async (dir) => {
      const failures: Error[] = [];
      const s = createSeries({ dir, durability: 'batch', batchWindowMs: 1, onFailure: (e) => failures.push(e) });
      await s.open();
      expect(s.record({ event: 'kept' }).seq).toBe(2);
      await s.flush();
      const active = (s as unknown as { committer: { active: { fh: { close(): Promise<void> } } } }).committer.active;
      await active.fh.close();
      expect(s.record({ event: 'lost' }).seq).toBe(3); // taken now; its commit fails later
      await expect(s.flush()).rejects.toMatchObject({ code: 'DAMESO_IO' });
      expect(failures.map((e) => (e as { code?: string }).code)).toEqual(['DAMESO_IO']);
      expect(() => s.record({ event: 'later' })).toThrow(expect.objectContaining({ code: 'DAMESO_IO' }));
      await s.close();
      expect(failures).toHaveLength(1);
      const again = createSeries({ dir });
      expect((await again.open()).lastSeq).toBe(2);
      await again.close();
    });
  });
});

/**
 * `dameso series …` end to end: the real command (src/cli/main.ts, bundled once), real files,
 * exit codes from src/cli/exit.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeMultiple } from 'cbor-x';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit.js';
import { bundledMain, runDameso } from '../helpers/series-child.js';
import { recordsOf } from '../helpers/series-files.js';
import { withTmpDir } from '../helpers/series-tmp.js';

const SEG = '00000000000000000001.seg';

describe('dameso series', () => {
  beforeAll(async () => {
    await bundledMain();
  }, 60_000);

  it('append prints durable seqs; verify, export, inspect read it back', async () => {
    await withTmpDir(async (dir) => {
      const a = await runDameso([
        'series',
        'append',
        '--dir',
        dir,
        '--count',
        '300',
        '--size',
        '8',
        '--durability',
        'always',
      ]);
      expect(a.code, a.stderr).toBe(EXIT.ok);
      const lines = a.stdout.toString().trim().split('\n');
      expect(lines.every((l) => /^durable \d+$/.test(l))).toBe(true);
      expect(lines[lines.length - 1]).toBe('durable 301');

      const v = await runDameso(['series', 'verify', '--dir', dir, '--json']);
      expect(v.code).toBe(EXIT.ok);
      expect(JSON.parse(v.stdout.toString())).toMatchObject({
        sound: true,
        entries: 301,
        firstSeq: 1,
        lastSeq: 301,
        segments: 1,
        truncatedBytes: 0,
        corruptRecords: 0,
      });

      const j = await runDameso(['series', 'export', '--dir', dir, '--from-seq', '300', '--event', 'append']);
      expect(j.code).toBe(EXIT.ok);
      const rows = j.stdout
        .toString()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(rows.map((r) => r.seq)).toEqual([300, 301]);
      expect(Buffer.from(rows[0].data, 'base64')).toEqual(Buffer.from([0, 1, 2, 3, 4, 5, 6, 7]));

      const c = await runDameso(['series', 'export', '--dir', dir, '--format', 'cbor', '--to-seq', '3']);
      expect(decodeMultiple(c.stdout)!.map((e) => (e as { seq: number }).seq)).toEqual([1, 2, 3]);

      const i = await runDameso(['series', 'inspect', '--dir', dir]);
      expect(i.code).toBe(EXIT.ok);
      expect(i.stdout.toString()).toMatch(/append 300/);
      expect(i.stdout.toString()).toMatch(/last snapshot: seq 1/);

      // Appends continue from the right seq.
      const b = await runDameso(['series', 'append', '--dir', dir, '--count', '1', '--durability', 'none']);
      expect(b.stdout.toString().trim()).toBe('durable 302');
    });
  }, 60_000);

  it('verify exits 1 on a corrupt record and 65 on a foreign folder or a newer format', async () => {
    await withTmpDir(async (dir) => {
      const s = join(dir, 's');
      await runDameso(['series', 'append', '--dir', s, '--count', '20', '--durability', 'none']);
      const seg = join(s, SEG);
      const recs = await recordsOf(seg, 1);
      const b = await readFile(seg);
      b[recs[10]!.offset + 20]! ^= 0x10;
      await writeFile(seg, b);
      const v = await runDameso(['series', 'verify', '--dir', s]);
      expect(v.code).toBe(EXIT.unsound);
      expect(v.stdout.toString()).toMatch(/corrupt records 1/);

      const foreign = join(dir, 'f');
      await runDameso(['series', 'append', '--dir', foreign, '--count', '0']);
      await writeFile(join(foreign, SEG), 'not a segment at all');
      const f = await runDameso(['series', 'verify', '--dir', foreign]);
      expect(f.code).toBe(EXIT.dataErr);
      expect(f.stderr).toMatch(/DAMESO_NOT_A_SERIES/);
      const f2 = await runDameso(['series', 'append', '--dir', '/etc', '--count', '1']);
      expect(f2.code).toBe(EXIT.dataErr);

      const b2 = await readFile(seg);
      b2.writeUInt16LE(9, 8);
      await writeFile(seg, b2);
      const n = await runDameso(['series', 'export', '--dir', s]);
      expect(n.code).toBe(EXIT.dataErr);
      expect(n.stderr).toMatch(/DAMESO_SERIES_FORMAT/);
    });
  }, 60_000);

  const mountable = (() => {
    try {
      execFileSync('mount', ['--version'], { stdio: 'ignore' });
      return process.getuid?.() === 0;
    } catch {
      return false;
    }
  })();

  it.skipIf(!mountable)(
    'append on a full or read-only disk exits 73 and keeps what was durable',
    async () => {
      const mnt = mkdtempSync(join(tmpdir(), 'dameso-cli-tmpfs-'));
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs', mnt]);
      try {
        const dir = join(mnt, 's');
        const full = await runDameso([
          'series',
          'append',
          '--dir',
          dir,
          '--count',
          '100000',
          '--size',
          '500',
          '--durability',
          'always',
          '--in-flight',
          '4',
        ]);
        expect(full.code).toBe(EXIT.cantCreate);
        expect(full.stderr).toMatch(/DAMESO_NO_SPACE/);
        const printed = full.stdout.toString().trim().split('\n');
        const last = Number(printed[printed.length - 1]!.split(' ')[1]);
        expect(last).toBeGreaterThan(1);
        const v = await runDameso(['series', 'verify', '--dir', dir, '--json']);
        const rep = JSON.parse(v.stdout.toString());
        expect(rep.lastSeq).toBeGreaterThanOrEqual(last);
        expect(rep.corruptRecords).toBe(0);
        execFileSync('mount', ['-o', 'remount,ro', mnt]);
        const ro = await runDameso(['series', 'append', '--dir', dir, '--count', '1']);
        expect(ro.code).toBe(EXIT.cantCreate);
        expect(ro.stderr).toMatch(/DAMESO_READ_ONLY/);
      } finally {
        execFileSync('umount', ['-l', mnt]);
        rmSync(mnt, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

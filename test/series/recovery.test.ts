import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSeries } from '../../src/series/index.js';
import { verifySeries } from '../../src/series/verify.js';
import { makeSeries, readAll, recordsOf, segmentFiles } from '../helpers/series-files.js';
import { withTmpDir } from '../helpers/series-tmp.js';

describe('series recovery', () => {
  it('cut at every byte offset of the last records: keeps whole records, cuts the rest, continues', async () => {
    await withTmpDir(async (dir) => {
      const src = join(dir, 'src');
      const entries = await makeSeries(src, 12);
      const [name] = await segmentFiles(src);
      const original = await readFile(join(src, name!));
      const recs = await recordsOf(join(src, name!), 1);
      const from = recs[recs.length - 3]!.offset;
      const work = join(dir, 'work');
      let cases = 0;
      for (let cut = from; cut < original.length; cut++) {
        await rm(work, { recursive: true, force: true });
        await makeSeries(work, 0); // the folder, then overwrite its segment with the cut file
        await writeFile(join(work, name!), original.subarray(0, cut));
        const whole = recs.filter((r) => r.end <= cut);
        const lastWhole = whole[whole.length - 1]!;
        const s = createSeries({ dir: work, durability: 'none' });
        const rep = await s.open();
        expect(rep.lastSeq).toBe(lastWhole.seq);
        expect(rep.truncatedBytes).toBe(cut - lastWhole.end);
        expect(rep.corruptRecords).toBe(0);
        const next = await s.append({ event: 'after' });
        expect(next.seq).toBe(lastWhole.seq + 1);
        await s.close();
        const all = await readAll(work);
        expect(all.slice(1, -1)).toEqual(entries.slice(0, lastWhole.seq - 1));
        expect(all.map((e) => e.seq)).toEqual(Array.from({ length: lastWhole.seq + 1 }, (_, i) => i + 1));
        const v = await verifySeries(work);
        expect(v).toMatchObject({ sound: true, truncatedBytes: 0, corruptRecords: 0 });
        cases++;
      }
      expect(cases).toBeGreaterThan(100);
    });
  });

  for (const zeros of [1, 16, 17, 4096, 300_000]) {
    it(`cuts a zero-filled tail of ${zeros} bytes`, async () => {
      await withTmpDir(async (dir) => {
        const entries = await makeSeries(dir, 20);
        const [name] = await segmentFiles(dir);
        await appendFile(join(dir, name!), Buffer.alloc(zeros));
        const ro = await verifySeries(dir);
        expect(ro).toMatchObject({ sound: true, truncatedBytes: zeros, entries: 21 });
        const s = createSeries({ dir, durability: 'always' });
        const rep = await s.open();
        expect(rep).toMatchObject({ lastSeq: 21, truncatedBytes: zeros, corruptRecords: 0 });
        expect((await s.append({ event: 'x' })).seq).toBe(22);
        await s.close();
        expect((await readAll(dir)).slice(1, 21)).toEqual(entries);
      });
    });
  }

  it('a flipped bit anywhere in a middle record: detected, reported, never returned', async () => {
    await withTmpDir(async (dir) => {
      const src = join(dir, 'src');
      const entries = await makeSeries(src, 10, { note: 'some payload text' });
      const [name] = await segmentFiles(src);
      const original = await readFile(join(src, name!));
      const recs = await recordsOf(join(src, name!), 1);
      const victim = recs[5]!;
      for (let at = victim.offset; at < victim.end; at++) {
        const work = join(dir, `w${at}`);
        await makeSeries(work, 0);
        const bad = Buffer.from(original);
        bad[at]! ^= 1 << (at % 8);
        await writeFile(join(work, name!), bad);
        const all = await readAll(work);
        const expected = [undefined, ...entries].filter((_, i) => i + 1 !== victim.seq).slice(1);
        expect(all.filter((e) => e.event !== 'snapshot')).toEqual(expected);
        const v = await verifySeries(work);
        expect(v.sound).toBe(false);
        expect(v.corruptRecords).toBe(1);
        // A writable open keeps everything after the damage and appends after it.
        const s = createSeries({ dir: work, durability: 'none' });
        const rep = await s.open();
        expect(rep).toMatchObject({ corruptRecords: 1, truncatedBytes: 0, lastSeq: 11 });
        expect((await s.append({ event: 'x' })).seq).toBe(12);
        await s.close();
        await rm(work, { recursive: true });
      }
    });
  });

  it('drops a segment whose creation was cut by a crash, keeping seqs unique', async () => {
    await withTmpDir(async (dir) => {
      await makeSeries(dir, 5);
      for (const torn of [Buffer.alloc(0), Buffer.alloc(24), Buffer.from([0x89, 0x44, 0x53])]) {
        await writeFile(join(dir, '00000000000000000007.seg'), torn);
        const s = createSeries({ dir, durability: 'none' });
        const rep = await s.open();
        expect(rep.lastSeq).toBe(6);
        expect(rep.truncatedBytes).toBe(torn.length);
        await s.close();
        expect(await segmentFiles(dir)).toEqual(['00000000000000000001.seg']);
      }
    });
  });

  it('refuses a foreign folder, a foreign segment file and a newer format', async () => {
    await withTmpDir(async (dir) => {
      await writeFile(join(dir, 'notes.txt'), 'hello');
      await expect(createSeries({ dir }).open()).rejects.toMatchObject({ code: 'DAMESO_NOT_A_SERIES' });
      await expect(createSeries({ dir: join(dir, 'notes.txt') }).open()).rejects.toMatchObject({
        code: 'DAMESO_NOT_A_SERIES',
      });
      await expect(createSeries({ dir: join(dir, 'missing'), readOnly: true }).open()).rejects.toMatchObject({
        code: 'DAMESO_NOT_A_SERIES',
      });
      const other = join(dir, 'other');
      await makeSeries(other, 0);
      await writeFile(join(other, '00000000000000000001.seg'), 'this is a text file, not a segment');
      await expect(createSeries({ dir: other }).open()).rejects.toMatchObject({ code: 'DAMESO_NOT_A_SERIES' });
      const newer = join(dir, 'newer');
      await makeSeries(newer, 3);
      const seg = join(newer, '00000000000000000001.seg');
      const b = await readFile(seg);
      b.writeUInt16LE(2, 8);
      const { crc32 } = await import('node:zlib');
      b.writeUInt32LE(crc32(b.subarray(0, 20)), 20);
      await writeFile(seg, b);
      await expect(createSeries({ dir: newer }).open()).rejects.toMatchObject({ code: 'DAMESO_SERIES_FORMAT' });
      expect(await readFile(seg)).toEqual(b); // nothing touched
    });
  });
});

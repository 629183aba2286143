import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import { chunkId, createSeries, type Durability, decodeChunk, fold, type View } from '../../src/series/index.js';
import { collect, countView, sumView, withTmpDir } from '../helpers/series-tmp.js';

const views = [countView, sumView] as View<unknown>[];

describe('series basics', () => {
  for (const durability of ['always', 'batch', 'none'] as Durability[]) {
    it(`appends, reads, reopens with views rebuilt (${durability})`, async () => {
      await withTmpDir(async (dir) => {
        const durable: number[] = [];
        const s = createSeries({ dir, durability, views, batchWindowMs: 2, onDurable: (n) => durable.push(n) });
        const rep = await s.open();
        expect(rep.lastSeq).toBe(1); // the opening snapshot
        const got = await Promise.all(
          Array.from({ length: 50 }, (_, i) => s.append({ event: i % 2 ? 'odd' : 'even', n: i })),
        );
        expect(got.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
        expect(s.durableSeq).toBe(51);
        expect(durable[durable.length - 1]).toBe(51);
        expect(s.view(countView.name)).toEqual({ even: 25, odd: 25 });
        const all = await collect(s.read());
        expect(all.length).toBe(51);
        expect(all[0]!.event).toBe('snapshot');
        expect(all.slice(1)).toEqual(got);
        expect((await collect(s.read({ event: 'odd', fromSeq: 10, toSeq: 20 }))).map((e) => e.seq)).toEqual([
          11, 13, 15, 17, 19,
        ]);
        const tail = await s.tail(3, { event: 'even' });
        expect(tail.map((e) => e.seq)).toEqual([50, 48, 46]);
        await s.close();
        await expect(s.append({ event: 'x' })).rejects.toMatchObject({ code: 'DAMESO_SERIES_CLOSED' });

        const s2 = createSeries({ dir, durability, views });
        const rep2 = await s2.open();
        expect(rep2).toMatchObject({ lastSeq: 51, truncatedBytes: 0, corruptRecords: 0, foldedEntries: 50 });
        expect(s2.view(sumView.name)).toEqual(fold(got, sumView));
        expect((await s2.append({ event: 'x' })).seq).toBe(52);
        await s2.close();
      });
    });
  }

  it('reads by time range though t is not sorted', async () => {
    await withTmpDir(async (dir) => {
      const s = createSeries({ dir, durability: 'none' });
      await s.open();
      for (const t of [500, 100, 900, 300, 700]) await s.append({ event: 'e', t });
      const got = await collect(s.read({ fromT: 200, toT: 800, event: 'e' }));
      expect(got.map((e) => e.t)).toEqual([500, 300, 700]);
      await s.close();
    });
  });

  it('rotates segments, each opening with a snapshot, and keeps the ring inside the budget', async () => {
    await withTmpDir(async (dir) => {
      const segmentBytes = 8192;
      const budgetBytes = 4 * segmentBytes;
      const s = createSeries({ dir, durability: 'none', views, segmentBytes, budgetBytes });
      await s.open();
      const data = new Uint8Array(300).fill(7);
      for (let i = 0; i < 400; i++) {
        await s.append({ event: 'blob', n: 1, data });
        const files = await readdir(dir);
        let total = 0;
        for (const f of files) total += (await stat(join(dir, f))).size;
        expect(total).toBeLessThanOrEqual(budgetBytes);
      }
      const st = s.stats();
      expect(st.evictedSegments).toBeGreaterThan(0);
      const first = await collect(s.read({ toSeq: st.firstSeq }));
      expect(first[0]).toMatchObject({ seq: st.firstSeq, event: 'snapshot' });
      expect(s.view(countView.name)).toEqual({ blob: 400 });
      await s.close();
      const s2 = createSeries({ dir, durability: 'none', views, segmentBytes, budgetBytes });
      await s2.open();
      expect(s2.view(countView.name)).toEqual({ blob: 400 });
      expect(s2.view(sumView.name)).toMatchObject({ sum: 400 });
      await s2.close();
    });
  });

  it('builds chunks whose id is the SHA-256 of their exact bytes', async () => {
    await withTmpDir(async (dir) => {
      const s = createSeries({ dir, durability: 'none' });
      await s.open();
      for (const t of [30, 10, 20]) await s.append({ event: 'obs', t, v: t / 10 });
      const c = await s.chunk(2, 4, 'node-a');
      expect(c.id).toBe(chunkId(c.bytes));
      expect(c.id).toMatch(/^[0-9a-f]{64}$/);
      expect(c.chunk).toMatchObject({ v: 1, node: 'node-a', first_seq: 2, last_seq: 4, start_t: 10, end_t: 30 });
      expect(decodeChunk(c.bytes)).toEqual(c.chunk);
      const again = await s.chunk(2, 4, 'node-a');
      expect(again.id).toBe(c.id);
      await expect(s.chunk(100, 200, 'node-a')).rejects.toMatchObject({ code: 'DAMESO_CHUNK_EMPTY' });
      await s.close();
    });
  });

  it('batch commits on the injected clock; flush commits at once', async () => {
    await withTmpDir(async (dir) => {
      const clock = createManualClock();
      const s = createSeries({ dir, durability: 'batch', batchWindowMs: 50, clock });
      await s.open();
      const p = s.append({ event: 'a' });
      const q = s.append({ event: 'b' });
      await new Promise((r) => setImmediate(r));
      expect(s.durableSeq).toBe(1);
      clock.advance(50);
      await expect(Promise.all([p, q])).resolves.toHaveLength(2);
      expect(s.durableSeq).toBe(3);
      const r = s.append({ event: 'c' });
      await s.flush();
      expect(s.durableSeq).toBe(4);
      await r;
      // Leader/follower: the window has passed since the last commit started and none is in
      // flight, so the next append commits at once, without waiting for the clock.
      clock.advance(50);
      await expect(s.append({ event: 'd' })).resolves.toMatchObject({ seq: 5 });
      expect(s.durableSeq).toBe(5);
      // Right after that commit started, the window bounds the fsync rate: the next one waits.
      const e = s.append({ event: 'e' });
      await new Promise((res) => setImmediate(res));
      expect(s.durableSeq).toBe(5);
      clock.advance(50);
      await e;
      expect(s.durableSeq).toBe(6);
      await s.close();
    });
  });

  it('rejects oversize entries and the reserved snapshot event', async () => {
    await withTmpDir(async (dir) => {
      const s = createSeries({ dir, durability: 'none', maxEntryBytes: 1000 });
      await s.open();
      await expect(s.append({ event: 'big', data: new Uint8Array(2000) })).rejects.toMatchObject({
        code: 'DAMESO_ENTRY_TOO_LARGE',
      });
      await expect(s.append({ event: 'snapshot' })).rejects.toMatchObject({ code: 'DAMESO_BAD_ENTRY' });
      expect((await s.append({ event: 'ok' })).seq).toBe(2);
      await s.close();
    });
  });

  it('writes an explicit snapshot entry of every view', async () => {
    await withTmpDir(async (dir) => {
      const s = createSeries({ dir, durability: 'always', views });
      await s.open();
      await s.append({ event: 'a', n: 5 });
      const snap = await s.snapshot();
      expect(snap).toMatchObject({ seq: 3, event: 'snapshot', views: { count: { a: 1 }, sum: { sum: 5 } } });
      const [last] = await s.tail(1);
      expect(last).toEqual(snap);
      await s.close();
    });
  });

  it('record: no promise per entry; flush waits for records already in the commit in flight', async () => {
    await withTmpDir(async (dir) => {
      const durable: number[] = [];
      const s = createSeries({ dir, durability: 'none', views, onDurable: (n) => durable.push(n) });
      await s.open();
      const recorded = Array.from({ length: 20 }, (_, n) => s.record({ event: 'r', n }));
      expect(recorded.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
      expect(s.view(sumView.name)).toMatchObject({ sum: 190 }); // folded at the call
      await Promise.resolve(); // the commit has started: its write is in flight
      await s.flush();
      expect(s.durableSeq).toBe(21);
      expect(durable.at(-1)).toBe(21);
      await s.close();
      expect(() => s.record({ event: 'x' })).toThrow(expect.objectContaining({ code: 'DAMESO_SERIES_CLOSED' }));
      const ro = createSeries({ dir, readOnly: true });
      await ro.open();
      expect((await collect(ro.read({ event: 'r' }))).length).toBe(20);
      await ro.close();
    });
  });

  it('hands a view that names its events only those, live, on reopen and in fold', async () => {
    await withTmpDir(async (dir) => {
      let calls = 0;
      const onlyB: View<number> = {
        name: 'only-b',
        events: ['b'],
        initial: () => 0,
        apply: (n, e) => {
          calls++;
          return e.event === 'b' ? n + 1 : n;
        },
      };
      const s = createSeries({ dir, durability: 'none', views: [onlyB as View<unknown>, countView as View<unknown>] });
      await s.open();
      const got = [];
      for (const event of ['a', 'b', 'a', 'a', 'b']) got.push(await s.append({ event }));
      expect(s.view('only-b')).toBe(2);
      expect(s.view(countView.name)).toEqual({ a: 3, b: 2 });
      expect(calls).toBe(2);
      expect(fold(got, onlyB)).toBe(2);
      expect(calls).toBe(4);
      await s.close();
      const again = createSeries({ dir, durability: 'none', views: [onlyB as View<unknown>] });
      await again.open(); // rebuilt by folding the entries after the opening snapshot
      expect(again.view('only-b')).toBe(2);
      expect(calls).toBe(6);
      await again.close();
    });
  });
});

describe('series writer lock', () => {
  it('refuses a second writer process, takes over a lock left by a dead one', async () => {
    const { spawn } = await import('node:child_process');
    const { writeFile } = await import('node:fs/promises');
    const { LOCK_FILE } = await import('../../src/series/index.js');
    await withTmpDir(async (dir) => {
      const s = createSeries({ dir, durability: 'none' });
      await s.open();
      await s.close();
      const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
      try {
        await writeFile(join(dir, LOCK_FILE), `${live.pid}\n`);
        await expect(createSeries({ dir }).open()).rejects.toMatchObject({ code: 'DAMESO_SERIES_LOCKED' });
        // Readers take no lock.
        const ro = createSeries({ dir, readOnly: true });
        await expect(ro.open()).resolves.toMatchObject({ lastSeq: 1 });
        await ro.close();
      } finally {
        live.kill('SIGKILL');
        await new Promise((r) => live.once('close', r));
      }
      // The holder is dead now: its lock is stale and taken over.
      const again = createSeries({ dir, durability: 'none' });
      await again.open();
      expect((await again.append({ event: 'x' })).seq).toBe(2);
      await again.close();
      expect(await readdir(dir)).not.toContain(LOCK_FILE);
    });
  });
});

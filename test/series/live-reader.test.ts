/**
 * Readers beside a running writer in another process: a real child appends under load (batch
 * durability, 4 KiB segments, a 16 KiB ring so it evicts all the time) while this test reads the
 * series with the read-only API and the real `dameso` command (series verify/export, map, chunks
 * ls). Every read must be a gapless run of seqs (a gap only where the ring evicted), reach every
 * entry durable before it opened, never fail, and write nothing: with the writer stopped, the
 * files hash the same before and after the readers ran, and no file appears or vanishes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit.js';
import { createSeries } from '../../src/series/index.js';
import { bundle, bundledMain, runDameso } from '../helpers/series-child.js';
import { collect, countView, withTmpDir } from '../helpers/series-tmp.js';

interface Writer {
  child: ChildProcess;
  /** The highest seq the writer reported durable so far. */
  durable: () => number;
  /** Resolves once the writer reported `seq` durable (or `held`); rejects if it exits first. */
  reached: (seq: number | 'held') => Promise<void>;
  exited: Promise<number | null>;
}

async function spawnWriter(data: string, count: number, hold = false): Promise<Writer> {
  const script = await bundle('test/helpers/live-writer-child.ts', 'live-writer.mjs');
  const child = spawn(process.execPath, [script, data, String(count), ...(hold ? ['hold'] : [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let partial = '';
  let last = 0;
  let held = false;
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    const lines = (partial + s).split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      const m = /^durable (\d+)$/.exec(l);
      if (m) last = Number(m[1]);
      else if (l === 'held') held = true;
    }
    for (const w of waiters) w();
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const reached = (want: number | 'held') =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (want === 'held' ? held : last >= want) {
          waiters.delete(check);
          resolve();
        }
      };
      waiters.add(check);
      check();
      void exited.then((code) => reject(new Error(`writer exited ${code} before ${want}: ${stderr}`)));
    });
  return { child, durable: () => last, reached, exited };
}

/** Kill the writer (stopped or not) and wait for it, before its folder is removed. */
async function stopWriter(w: Writer): Promise<void> {
  w.child.kill('SIGKILL');
  await w.exited;
}

/** Every file under `root`: size, mtime and SHA-256 (the lock file included). */
async function fingerprint(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of await readdir(root, { recursive: true })) {
    const path = join(root, name);
    const st = await stat(path);
    if (!st.isFile()) continue;
    const hash = createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
    out.set(name, `${st.size} ${st.mtimeMs} ${hash}`);
  }
  return out;
}

/** The first seq still on disk (the oldest segment's name). */
async function firstSeqOnDisk(dir: string): Promise<number> {
  const segs = (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
  return Number(segs[0]!.slice(0, -4));
}

/**
 * A read's seqs: strictly consecutive except where the ring evicted (every missing seq below the
 * oldest seq on disk after the read), and reaching `durableBefore` unless that was evicted too.
 */
async function expectGaplessRead(seqs: number[], dir: string, durableBefore: number): Promise<void> {
  const floor = await firstSeqOnDisk(dir);
  expect(seqs.length).toBeGreaterThan(0);
  for (let i = 1; i < seqs.length; i++) {
    const [prev, cur] = [seqs[i - 1]!, seqs[i]!];
    if (cur !== prev + 1) expect(cur - 1, `seqs ${prev + 1}..${cur - 1} missing but not evicted`).toBeLessThan(floor);
  }
  if (durableBefore >= floor) expect(seqs[seqs.length - 1]).toBeGreaterThanOrEqual(durableBefore);
}

async function apiRead(dir: string): Promise<number[]> {
  const s = createSeries({ dir, readOnly: true });
  await s.open();
  try {
    return (await collect(s.read())).map((e) => e.seq);
  } finally {
    await s.close();
  }
}

async function cliExport(dir: string): Promise<number[]> {
  const r = await runDameso(['series', 'export', '--dir', dir]);
  expect(r.code, r.stderr).toBe(EXIT.ok);
  expect(r.stderr).toBe('');
  return r.stdout
    .toString()
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { seq: number }).seq);
}

interface VerifyJson {
  sound: boolean;
  writerPid: number | null;
  inProgressBytes: number;
  truncatedBytes: number;
  lastSeq: number;
}

async function cliVerify(dir: string): Promise<VerifyJson> {
  const r = await runDameso(['series', 'verify', '--dir', dir, '--json']);
  expect(r.code, r.stdout.toString() + r.stderr).toBe(EXIT.ok);
  return JSON.parse(r.stdout.toString()) as VerifyJson;
}

async function cliMap(data: string): Promise<number> {
  const r = await runDameso(['map', '--data', data, '--json']);
  expect(r.code, r.stderr).toBe(EXIT.ok);
  return (JSON.parse(r.stdout.toString()) as { features: unknown[] }).features.length;
}

/** Every reader once; returns nothing, asserts each read. */
async function readAll(data: string, dir: string, w: Writer, live: boolean): Promise<void> {
  let before = w.durable();
  await expectGaplessRead(await apiRead(dir), dir, before);
  before = w.durable();
  await expectGaplessRead(await cliExport(dir), dir, before);
  const v = await cliVerify(dir);
  expect(v.sound).toBe(true);
  expect(v.writerPid).toBe(live ? w.child.pid : null);
  expect(await cliMap(data)).toBeGreaterThan(0);
  const ls = await runDameso(['chunks', 'ls', '--data', data, '--json']);
  expect(ls.code, ls.stderr).toBe(EXIT.ok);
}

describe('read-only readers beside a writer process', () => {
  beforeAll(async () => {
    await bundledMain();
    await bundle('test/helpers/live-writer-child.ts', 'live-writer.mjs');
  }, 120_000);

  it('see gapless prefixes while it appends and evicts, and never touch its files', async () => {
    await withTmpDir(async (data) => {
      const dir = join(data, 'series');
      const w = await spawnWriter(data, 1_000_000);
      try {
        await w.reached(200);
        // Reads while the writer appends and its ring evicts.
        for (let round = 0; round < 4; round++) await readAll(data, dir, w, true);
        expect(await firstSeqOnDisk(dir), 'the ring evicted while the readers ran').toBeGreaterThan(1);

        // The writer stopped (SIGSTOP: its lock still held by a live process): the readers write nothing.
        w.child.kill('SIGSTOP');
        const frozen = await fingerprint(data);
        await readAll(data, dir, w, true);
        expect(await fingerprint(data)).toEqual(frozen);
        w.child.kill('SIGCONT');
        await w.reached(w.durable() + 50);

        // The writer gone: the same, and verify no longer names a live writer.
        w.child.kill('SIGTERM');
        expect(await w.exited).toBe(0);
        const left = await fingerprint(data);
        expect([...left.keys()].some((n) => n.endsWith('.lock'))).toBe(false);
        await readAll(data, dir, w, false);
        expect(await fingerprint(data)).toEqual(left);
      } finally {
        await stopWriter(w);
      }
    });
  }, 180_000);

  it('segments evicted after a read-only open listed them are skipped; the rest reads gapless', async () => {
    await withTmpDir(async (dir) => {
      const w = createSeries({ dir, durability: 'none', segmentBytes: 4096, budgetBytes: 1 << 20, views: [countView] });
      await w.open();
      for (let i = 0; i < 200; i++) await w.append({ event: 'x', pad: 'p'.repeat(60) });
      await w.close();
      const lastSeq = w.lastSeq; // snapshots take seqs too
      const r = createSeries({ dir, readOnly: true, views: [countView] });
      await r.open();
      expect(r.view<Record<string, number>>('count').x).toBe(200);
      const segs = (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
      expect(segs.length).toBeGreaterThan(3);
      // What a writer's ring does while a reader holds its listing.
      for (const name of segs.slice(0, 2)) await unlink(join(dir, name));
      const seqs = (await collect(r.read())).map((e) => e.seq);
      await r.close();
      expect(seqs[0]).toBe(Number(segs[2]!.slice(0, -4)));
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i));
      expect(seqs[seqs.length - 1]).toBe(lastSeq);
    });
  });

  it('verify calls the torn tail of a live writer "in progress", and of a dead one a cut to come', async () => {
    await withTmpDir(async (data) => {
      const dir = join(data, 'series');
      const w = await spawnWriter(data, 40, true);
      try {
        await w.reached('held');
        const segs = (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
        // Half a record at the end of the active segment: what a reader sees mid-write.
        await appendFile(join(dir, segs[segs.length - 1]!), Buffer.from([0x12, 0x34, 0x56, 0x78, 1, 200, 0, 0]));
        const active = join(dir, segs[segs.length - 1]!);
        const sizeWithTail = (await stat(active)).size;
        await expectGaplessRead(await apiRead(dir), dir, w.durable());
        await expectGaplessRead(await cliExport(dir), dir, w.durable());
        expect((await stat(active)).size, 'a read-only open leaves the torn tail in place').toBe(sizeWithTail);
        const live = await runDameso(['series', 'verify', '--dir', dir]);
        expect(live.code, live.stdout.toString()).toBe(EXIT.ok);
        const text = live.stdout.toString();
        expect(text).toMatch(/^sound: /);
        expect(text).toContain(`live: process ${w.child.pid} is appending; tail in progress 8 bytes`);
        expect(await cliVerify(dir)).toMatchObject({ sound: true, inProgressBytes: 8, truncatedBytes: 0 });

        w.child.kill('SIGKILL');
        await w.exited;
        const dead = await runDameso(['series', 'verify', '--dir', dir]);
        expect(dead.code).toBe(EXIT.ok);
        expect(dead.stdout.toString()).toContain('truncated bytes 8 ');
        expect(dead.stdout.toString()).not.toContain('live:');
      } finally {
        await stopWriter(w);
      }
    });
  }, 60_000);
});

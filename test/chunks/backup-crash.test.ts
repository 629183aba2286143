/**
 * A `dameso node --replicate 3` process SIGKILLed in the middle of backing up a long series, then
 * started again on the same folder (real processes, a real broker, three real bt node processes):
 * the backup resumes from the mark the series kept, no chunk the mark covered is sent again, and
 * the series verifies clean.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupView, type ChunksState, chunksView } from '../../src/chunks/index.js';
import { createSeries } from '../../src/series/index.js';
import type { Entry, View } from '../../src/series/types.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { finished, printed, runCli, spawnCli } from '../helpers/node-cli.js';
import { killHard } from '../helpers/node-fixtures.js';
import { collect } from '../helpers/series-tmp.js';

const VIEWS = [chunksView as View<unknown>, backupView as View<unknown>];
/** ~230-byte entries: about 280 to a 64 KiB chunk, so ~28 chunks: several backup rounds of 8. */
const PREFILL_ENTRIES = 8_000;

let broker: BrokerHandle;
let root: string;
const children: ChildProcess[] = [];

/** Reads a series folder without a lock (the node may be running): its views and the entries asked for. */
async function readSeries(
  dir: string,
  event?: string | string[],
): Promise<{ mark: number; lastSeq: number; entries: Entry[] }> {
  const series = createSeries({ dir, views: VIEWS, readOnly: true });
  await series.open();
  try {
    const mark = series.view<ChunksState>('chunks').pushed_to_seq;
    const entries = event === undefined ? [] : await collect(series.read({ event }));
    return { mark, lastSeq: series.lastSeq, entries };
  } finally {
    await series.close();
  }
}

/** Polls `check` until it holds; throws after `timeoutMs` (a hang guard, never a pass). */
async function poll(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function startNode(args: string[]): Promise<ChildProcess> {
  const child = spawnCli(['node', '--broker', broker.url, '--log-level', 'warn', ...args]);
  children.push(child);
  await printed(child, ' online ');
  return child;
}

const pusherArgs = () => [
  '--id',
  'px',
  '--data',
  join(root, 'px'),
  '--replicate',
  '3',
  '--simulate',
  'temp',
  '--position',
  '48.8566,2.3522',
];

/** The chunk ids the pusher sent (`store_chunk` outcomes), in order. */
const sent = (entries: Entry[]): string[] =>
  entries.filter((e) => e.event === 'intent_outcome' && e.kind === 'store_chunk').map((e) => String(e.subject));

beforeAll(async () => {
  broker = await startAedes();
  root = await mkdtemp(join(tmpdir(), 'dameso-backup-crash-'));
  const series = createSeries({ dir: join(root, 'px', 'series'), durability: 'none' });
  await series.open();
  for (let i = 0; i < PREFILL_ENTRIES; i++) series.record({ event: 'temp', i, pad: 'x'.repeat(200) });
  await series.close();
  for (const id of ['bt-1', 'bt-2', 'bt-3'])
    await startNode(['--id', id, '--roles', 'bt', '--data', join(root, id), '--replicate', '0']);
}, 60_000);

afterAll(async () => {
  for (const c of children) await killHard(c);
  await broker?.stop();
  await rm(root, { recursive: true, force: true });
});

describe('dameso node --replicate 3, SIGKILLed mid-backup', () => {
  it('resumes from its mark after a restart, sends no chunk the mark covered again, verifies clean', async () => {
    const seriesDir = join(root, 'px', 'series');
    const prefilled = (await readSeries(seriesDir)).lastSeq;

    const first = await startNode(pusherArgs());
    // Killed once the mark moved (durably) and while much of the series is still to go.
    await poll(async () => (await readSeries(seriesDir)).mark > 0, 60_000, 'a first durable backup mark');
    await killHard(first);
    const atKill = await readSeries(seriesDir, ['intent_outcome', 'chunk_pushed']);
    expect(atKill.mark).toBeGreaterThan(0);
    expect(atKill.mark).toBeLessThan(prefilled); // mid-backup

    const second = await startNode(pusherArgs());
    await poll(async () => (await readSeries(seriesDir)).mark >= prefilled, 120_000, 'the backup past the prefill');
    second.kill('SIGTERM');
    expect((await finished(second)).code).toBe(0);

    const all = await readSeries(seriesDir, ['intent_outcome', 'chunk_pushed']);
    const after = all.entries.filter((e) => e.seq > atKill.lastSeq);
    // What each chunk covers, from the holders' own records of it.
    const ranges = new Map<string, { first: number; last: number }>();
    for (const id of ['bt-1', 'bt-2', 'bt-3']) {
      for (const e of (await readSeries(join(root, id, 'series'), 'stored_chunk')).entries)
        if (e.node === 'px') ranges.set(String(e.id), { first: Number(e.first_seq), last: Number(e.last_seq) });
    }
    const resent = sent(after).filter((id) => (ranges.get(id)?.last ?? Number.POSITIVE_INFINITY) <= atKill.mark);
    expect(resent).toEqual([]);
    // The first chunk settled after the restart (sent, or found already held) starts right after
    // the mark kept at the kill.
    const firstAfter = after.find((e) => e.event === 'chunk_pushed');
    expect(firstAfter).toBeDefined();
    expect(ranges.get(String(firstAfter?.id))?.first).toBe(atKill.mark + 1);
    // Across both runs, at most one chunk (the one in flight at the kill) was sent twice.
    const counts = new Map<string, number>();
    for (const id of sent(all.entries)) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect([...counts.values()].filter((n) => n > 1).length).toBeLessThanOrEqual(1);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(2);

    // Every replicated chunk is held by the three bt nodes.
    const met = all.entries.filter((e) => e.event === 'chunk_pushed' && e.met === true);
    expect(met.length).toBeGreaterThan(10);
    for (const e of met) expect([...(e.holders as string[])].sort()).toEqual(['bt-1', 'bt-2', 'bt-3']);

    const verify = await runCli(['series', 'verify', '--dir', seriesDir]);
    expect(verify.code).toBe(0);
  }, 240_000);
});

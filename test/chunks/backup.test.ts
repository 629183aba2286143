/**
 * The background backup (src/chunks/backup.ts). First on a manual clock with a real series and a
 * recording push (rounds, pacing, states, what is pushed when); then with a real broker and real
 * bt nodes: it waits for K storage nodes, says so once, and completes when they join.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Backup,
  type BackupDeps,
  type BackupState,
  backupView,
  type ChunksState,
  chunksView,
  createBackup,
  createChunksService,
  type PushResult,
  streamChunks,
} from '../../src/chunks/index.js';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import { alwaysYesGate } from '../../src/intent/index.js';
import { createMetrics, nodeSource, startMetricsServer } from '../../src/metrics/index.js';
import { createNode, type DamesoNode } from '../../src/node.js';
import type { Chunk, Entry, Series, View } from '../../src/series/types.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { createField, type Field } from '../helpers/chunks-field.js';
import { openSeries } from '../helpers/chunks-series.js';
import { until } from '../helpers/node-fixtures.js';
import { collect, withTmpDir } from '../helpers/series-tmp.js';
import { get, sample } from '../metrics/scrape.js';

const K = 3;
const ROUND_MS = 1_000;
const PARTIAL_AFTER_MS = 60_000;
const VIEWS = [chunksView as View<unknown>, backupView as View<unknown>];

/** A pino logger whose records the test reads. */
function captureLog() {
  const records: Array<{ level: number; msg: string; [k: string]: unknown }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') records.push(JSON.parse(line));
      done();
    },
  });
  const log = pino({ level: 'info' }, sink);
  // The warning of a backup that starts waiting for storage nodes.
  return { log, warnings: () => records.filter((r) => r.level === 40 && String(r.msg).startsWith('backup: waiting')) };
}

async function backupEntries(series: Series): Promise<Entry[]> {
  await series.flush(); // recorded entries reach the file first
  return collect(series.read({ event: 'backup' }));
}

interface Rig {
  clock: ManualClock;
  series: Series;
  backup: Backup;
  pushed: Chunk[];
  env: { online: string[]; connected: boolean; pressure: 'cpu_busy' | 'memory_low' | undefined };
  warnings: () => unknown[];
  round(): Promise<BackupState>;
  /** Lets `ms` pass (a round due meanwhile runs and ends). */
  age(ms: number): Promise<void>;
}

/** A backup over a real series on a manual clock; its push records each chunk as met by `env.online`. */
async function rig(dir: string, clock = createManualClock(), minEntryGapMs = 0): Promise<Rig> {
  const series = await openSeries(dir, VIEWS, clock);
  await series.open();
  const { log, warnings } = captureLog();
  const pushed: Chunk[] = [];
  const env: Rig['env'] = { online: [], connected: true, pressure: undefined };
  const deps: BackupDeps = {
    series,
    clock,
    log,
    storageNodes: () => env.online,
    connected: () => env.connected,
    pressure: () => env.pressure,
    busy: () => false,
    cut: (from, to) => streamChunks(series, 'me', from, to, { maxEntries: 10 }),
    async push(chunks) {
      const out: PushResult[] = [];
      for await (const c of chunks) {
        pushed.push(c);
        series.record({ event: 'chunk_pushed', id: c.id, met: true, holders: env.online, last_seq: c.chunk.last_seq });
        out.push({
          id: c.id,
          size: c.bytes.length,
          holders: env.online,
          refused: [],
          silent: [],
          offline: [],
          rounds: 1,
          met: true,
        });
      }
      return out;
    },
  };
  const backup = createBackup(deps, {
    replicate: K,
    roundMs: ROUND_MS,
    maxChunksPerRound: 2,
    partialAfterMs: PARTIAL_AFTER_MS,
    minEntryGapMs,
  });
  const round = async (): Promise<BackupState> => {
    await series.flush(); // what was appended is durable, so the round after next may push it
    const before = backup.state().rounds;
    clock.advance(ROUND_MS);
    await backup.idle();
    expect(backup.state().rounds).toBe(before + 1);
    return backup.state();
  };
  const age = async (ms: number): Promise<void> => {
    await backup.idle();
    clock.advance(ms);
    await backup.idle();
  };
  return { clock, series, backup, pushed, env, warnings, round, age };
}

async function appendData(series: Series, n: number): Promise<void> {
  for (let i = 0; i < n; i++) series.record({ event: 'temp', i });
  await series.flush();
}

describe('backup rounds (manual clock, real series)', () => {
  it('waits while fewer than K storage nodes are online: one entry and one warning, not one per round', async () => {
    await withTmpDir(async (dir) => {
      const r = await rig(dir);
      await appendData(r.series, 45);
      r.backup.start();
      for (let i = 0; i < 6; i++) await r.round();
      let entries = await backupEntries(r.series);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ state: 'waiting', reason: 'too_few_storage_nodes', k: K, online: 0, mark: 0 });
      expect(r.warnings()).toHaveLength(1);
      expect(r.pushed).toHaveLength(0);

      r.env.online = ['bt-1', 'bt-2'];
      for (let i = 0; i < 4; i++) await r.round();
      expect(r.backup.state()).toMatchObject({ state: 'waiting', online: 2, k: K, mark: 0 });
      entries = await backupEntries(r.series);
      expect(entries.map((e) => e.online)).toEqual([0, 2]); // the new count is told once
      expect(r.warnings()).toHaveLength(1);
      expect(r.pushed).toHaveLength(0);

      r.env.online = ['bt-1', 'bt-2', 'bt-3'];
      // 45 entries and a few of the backup's own, 10 a chunk: 2 full chunks a round, the tail later.
      expect(await r.round()).toMatchObject({ state: 'pushing', online: 3 });
      expect(r.pushed).toHaveLength(2);
      expect(r.pushed[0]?.chunk.first_seq).toBeLessThanOrEqual(2);
      // Full chunks, at most 2 a round, until only the young partial tail is left.
      let at = r.backup.state();
      for (let i = 0; i < 10 && at.state === 'pushing'; i++) {
        const before = r.pushed.length;
        at = await r.round();
        expect(r.pushed.length - before).toBeLessThanOrEqual(2);
      }
      expect(at.state).toBe('caught_up');
      // A few new entries: the tail after the full chunks is young, so it waits.
      await appendData(r.series, 3);
      for (let i = 0; i < 3; i++) expect(await r.round()).toMatchObject({ state: 'caught_up' });
      expect(r.backup.state().lag).toBeGreaterThan(0);
      expect(r.pushed.every((c) => c.chunk.events.length === 10)).toBe(true);
      const full = r.pushed.length;

      await r.age(PARTIAL_AFTER_MS);
      const done = await r.round();
      expect(r.pushed.length).toBeGreaterThan(full);
      expect(done).toMatchObject({ state: 'caught_up', lag: 0 });
      expect(done.mark).toBe(r.pushed.at(-1)?.chunk.last_seq);
      // Contiguous, never the same seq twice.
      r.pushed.forEach((c, i) => {
        if (i > 0) expect(c.chunk.first_seq).toBe((r.pushed[i - 1]?.chunk.last_seq ?? 0) + 1);
      });
      expect((await backupEntries(r.series)).map((e) => e.state)).toEqual([
        'waiting',
        'waiting',
        'pushing',
        'caught_up',
      ]);
      await r.backup.stop();
      await r.series.close();
    });
  });

  it('replication bookkeeping alone never starts a push; new data does', async () => {
    await withTmpDir(async (dir) => {
      const r = await rig(dir);
      r.env.online = ['bt-1', 'bt-2', 'bt-3'];
      await appendData(r.series, 5);
      r.backup.start();
      await r.age(PARTIAL_AFTER_MS);
      for (let i = 0; i < 3; i++) await r.round();
      expect(r.backup.state()).toMatchObject({ state: 'caught_up', lag: 0 });
      const pushedBefore = r.pushed.length;
      expect(pushedBefore).toBeGreaterThan(0);

      // What replication writes, here and on holders: outcomes of store_chunk, decisions, stored chunks.
      r.series.record({ event: 'intent_outcome', id: 'i1', kind: 'store_chunk', yes: [], no: [] });
      r.series.record({ event: 'decision', id: 'i2', kind: 'store_chunk', from: 'x', r: 'yes' });
      r.series.record({ event: 'stored_chunk', id: 'c'.repeat(64), size: 1, node: 'x', first_seq: 1, last_seq: 1 });
      await r.age(PARTIAL_AFTER_MS);
      for (let i = 0; i < 4; i++) await r.round();
      expect(r.pushed.length).toBe(pushedBefore);
      expect(r.backup.state().lag).toBe(0);

      await appendData(r.series, 1);
      expect(r.backup.state().lag).toBeGreaterThan(0);
      await r.age(PARTIAL_AFTER_MS);
      for (let i = 0; i < 3; i++) await r.round();
      const after = r.pushed.slice(pushedBefore);
      expect(after.length).toBeGreaterThan(0);
      // The bookkeeping rode along with the data after it.
      expect(after.flatMap((c) => c.chunk.events.map((e) => e.event))).toEqual(
        expect.arrayContaining(['intent_outcome', 'decision', 'stored_chunk', 'temp']),
      );
      expect(r.backup.state().lag).toBe(0);
      await r.backup.stop();
      await r.series.close();
    });
  });

  it('pauses while the broker is away or the node is busy, once each, and resumes', async () => {
    await withTmpDir(async (dir) => {
      const r = await rig(dir);
      r.env.online = ['bt-1', 'bt-2', 'bt-3'];
      await appendData(r.series, 40);
      r.backup.start();
      await r.round();
      const pushed = r.pushed.length;
      r.env.connected = false;
      for (let i = 0; i < 3; i++) expect(await r.round()).toMatchObject({ state: 'paused', reason: 'broker_offline' });
      r.env.connected = true;
      r.env.pressure = 'cpu_busy';
      for (let i = 0; i < 3; i++) expect(await r.round()).toMatchObject({ state: 'paused', reason: 'cpu_busy' });
      expect(r.pushed.length).toBe(pushed);
      r.env.pressure = undefined;
      expect((await r.round()).state).not.toBe('paused');
      expect(r.pushed.length).toBe(pushed + 2);
      const states = (await backupEntries(r.series)).map((e) => `${e.state}:${e.reason ?? ''}`);
      expect(states.slice(0, 3)).toEqual(['pushing:', 'paused:broker_offline', 'paused:cpu_busy']);
      expect(states).toHaveLength(4); // one entry per change, none per round
      await r.backup.stop();
      await r.series.close();
    });
  });

  it('a state that flaps (pressure on and off every round) is told at most once per gap', async () => {
    await withTmpDir(async (dir) => {
      const gapMs = 10 * ROUND_MS;
      const r = await rig(dir, createManualClock(), gapMs);
      r.env.online = ['bt-1', 'bt-2', 'bt-3'];
      await appendData(r.series, 5);
      r.backup.start();
      for (let i = 0; i < 40; i++) {
        r.env.pressure = i % 2 === 0 ? 'cpu_busy' : undefined;
        await r.round();
      }
      // 40 rounds, 40 flips: the first is told at once, then at most one per 10 rounds.
      const told = await backupEntries(r.series);
      expect(told.length).toBeGreaterThanOrEqual(2);
      expect(told.length).toBeLessThanOrEqual(5);
      const ts = told.map((e) => e.t);
      ts.forEach((t, i) => {
        if (i > 0) expect(t - (ts[i - 1] ?? 0)).toBeGreaterThanOrEqual(gapMs);
      });
      await r.backup.stop();
      await r.series.close();
    });
  });

  it('resumes after a restart from the mark kept in the series', async () => {
    await withTmpDir(async (dir) => {
      const first = await rig(dir);
      first.env.online = ['bt-1', 'bt-2', 'bt-3'];
      await appendData(first.series, 60);
      first.backup.start();
      await first.round();
      await first.round();
      const mark = first.series.view<ChunksState>('chunks').pushed_to_seq;
      expect(mark).toBe(first.pushed.at(-1)?.chunk.last_seq);
      expect(first.backup.state().lag).toBeGreaterThan(0);
      await first.backup.stop();
      await first.series.close();

      const again = await rig(dir);
      again.env.online = ['bt-1', 'bt-2', 'bt-3'];
      again.backup.start();
      await again.round();
      expect(again.pushed[0]?.chunk.first_seq).toBe(mark + 1);
      await again.backup.stop();
      await again.series.close();
    });
  });
});

describe('backup against a real broker and real bt nodes', () => {
  let broker: BrokerHandle;
  let field: Field;
  let pusher: DamesoNode | undefined;
  const started = new Set<string>();
  /** The bt nodes are shared by the tests of this block; each is started once. */
  const startBt = async (id: string): Promise<void> => {
    if (started.has(id)) return;
    started.add(id);
    await field.start(id);
  };

  beforeAll(async () => {
    broker = await startAedes();
    field = await createField(broker.url);
  });
  afterEach(async () => {
    await pusher?.stop();
  });
  afterAll(async () => {
    await field?.stopAll();
    await broker?.stop();
  });

  it('waits (one entry, one warning) with 0 then 2 of 3 storage nodes; completes with 3, each chunk on 3 holders', async () => {
    const { log, warnings } = captureLog();
    // The pusher is a bt node itself: its own copy does not count, it needs 3 others.
    const chunks = createChunksService({
      replicate: K,
      maxEntries: 50,
      deadlineMs: 3000,
      backup: { roundMs: 100, partialAfterMs: 0, minEntryGapMs: 0 },
    });
    pusher = createNode({
      id: 'pusher',
      roles: ['bt'],
      broker: broker.url,
      dataDir: `${field.root}/pusher`,
      services: [chunks],
      gate: alwaysYesGate,
      durability: 'none',
      log,
    });
    await pusher.start();
    const series = pusher.series;
    for (let i = 0; i < 400; i++) series.record({ event: 'temp', i, pad: 'x'.repeat(40) });
    const lastData = series.lastSeq;
    const state = () => chunks.backupState() as BackupState;

    await until(() => state().rounds >= 10, 15_000, '10 backup rounds');
    expect(state()).toMatchObject({ state: 'waiting', online: 0, mark: 0 });
    expect(await backupEntries(series)).toHaveLength(1);
    expect(warnings()).toHaveLength(1);

    await startBt('bt-1');
    await startBt('bt-2');
    await until(() => state().online === 2, 15_000, 'two storage nodes seen');
    const seen = state().rounds;
    await until(() => state().rounds >= seen + 5, 15_000, '5 more rounds');
    expect(state()).toMatchObject({ state: 'waiting', reason: 'too_few_storage_nodes', online: 2, k: K, mark: 0 });
    expect((await backupEntries(series)).at(-1)).toMatchObject({ state: 'waiting', online: 2, k: K });
    expect(warnings()).toHaveLength(1);

    await startBt('bt-3');
    await until(() => state().state === 'caught_up' && state().lag === 0, 30_000, 'backup caught up');
    const done = state();
    expect(done.mark).toBeGreaterThanOrEqual(lastData);
    expect(done.online).toBe(3);

    // A chunk short of K (a holder that joined but was not serving yet) is retried; none is
    // replicated twice, and every replicated one has K holders.
    await series.flush();
    const pushedEntries = await collect(series.read({ event: 'chunk_pushed' }));
    const met = pushedEntries.filter((e) => e.met === true);
    const ids = met.map((e) => e.id as string);
    expect(new Set(ids).size).toBe(ids.length);
    expect(met.every((e) => (e.holders as string[]).length === K)).toBe(true);
    expect(Math.max(...met.map((e) => Number(e.last_seq)))).toBe(done.mark);
    for (const id of ids) {
      const held = (await chunks.whoHas(id)).filter((h) => h.node !== 'pusher');
      expect(held.map((h) => h.node).sort()).toEqual(['bt-1', 'bt-2', 'bt-3']);
    }
    // Waiting was told for 0 of 3 and 2 of 3 (1 of 3 when a round fell between the two joins), once each.
    const waiting = (await backupEntries(series)).filter((e) => e.state === 'waiting').map((e) => e.online);
    expect(waiting[0]).toBe(0);
    expect(waiting.at(-1)).toBe(2);
    expect(new Set(waiting).size).toBe(waiting.length);
    expect(warnings()).toHaveLength(1);

    // The same progress, scraped from the node's metrics endpoint.
    const metrics = createMetrics();
    metrics.addNodeSource('pusher', nodeSource(pusher));
    const server = await startMetricsServer({ metrics, port: 0 });
    try {
      const text = (await get(server.url)).body;
      const now = state();
      expect(sample(text, 'dameso_backup_mark', { node: 'pusher' })).toBe(now.mark);
      expect(sample(text, 'dameso_backup_lag_entries', { node: 'pusher' })).toBe(0);
      expect(sample(text, 'dameso_backup_state', { node: 'pusher', state: 'caught_up' })).toBe(1);
      expect(sample(text, 'dameso_backup_state', { node: 'pusher', state: 'waiting' })).toBe(0);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('does not send again a chunk K holders already announce (the same bytes pushed by another path)', async () => {
    // The pusher's series, written while it is down; its first chunk pushed by another node first
    // (as a consensus chunk or `dameso chunks push` would).
    const dataDir = `${field.root}/twice`;
    const offline = await openSeries(`${dataDir}/series`, VIEWS);
    await offline.open();
    for (let i = 0; i < 30; i++) offline.record({ event: 'temp', i });
    await offline.flush();
    const [early] = await collect(streamChunks(offline, 'twice', 1, offline.lastSeq, { maxEntries: 20 }));
    await offline.close();
    for (const id of ['bt-1', 'bt-2', 'bt-3']) await startBt(id);
    const other = await field.start('other', { roles: [] });
    await until(() => other.chunks.storageNodes().length >= K, 15_000, 'three storage nodes seen');
    const first = await other.chunks.pushChunk({ id: early!.id, bytes: early!.bytes });
    expect(first.met).toBe(true);

    const chunks = createChunksService({
      replicate: K,
      maxEntries: 20,
      backup: { roundMs: 300, partialAfterMs: 0, minEntryGapMs: 0 },
    });
    pusher = createNode({
      id: 'twice',
      broker: broker.url,
      dataDir,
      services: [chunks],
      gate: alwaysYesGate,
      durability: 'none',
      log: captureLog().log,
    });
    await pusher.start();
    const state = () => chunks.backupState() as BackupState;
    await until(() => state().mark >= early!.chunk.last_seq, 15_000, 'the mark past the first chunk');
    await pusher.series.flush();
    const entries = await collect(pusher.series.read({ event: ['chunk_pushed', 'intent_outcome'] }));
    const settled = entries.find((e) => e.event === 'chunk_pushed' && e.id === early!.id);
    expect(settled).toMatchObject({ met: true, rounds: 0, last_seq: early!.chunk.last_seq });
    expect(entries.filter((e) => e.event === 'intent_outcome' && e.subject === early!.id)).toEqual([]);
  }, 60_000);
});

describe('backup across a broker outage (real broker stopped and restarted on its port)', () => {
  let broker: BrokerHandle;
  let field: Field;
  let pusher: DamesoNode | undefined;

  beforeAll(async () => {
    broker = await startAedes();
    field = await createField(broker.url);
  });
  afterAll(async () => {
    await pusher?.stop();
    await field?.stopAll();
    await broker?.stop();
  });

  it('pauses (broker_offline) while the broker is away, then catches up on what was written meanwhile', async () => {
    for (const id of ['bt-1', 'bt-2', 'bt-3']) await field.start(id);
    const chunks = createChunksService({
      replicate: K,
      maxEntries: 20,
      backup: { roundMs: 100, partialAfterMs: 0, minEntryGapMs: 0 },
    });
    pusher = createNode({
      id: 'outage',
      broker: broker.url,
      dataDir: `${field.root}/outage`,
      services: [chunks],
      gate: alwaysYesGate,
      durability: 'none',
      log: captureLog().log,
    });
    await pusher.start();
    const series = pusher.series;
    const state = () => chunks.backupState() as BackupState;
    for (let i = 0; i < 50; i++) series.record({ event: 'temp', i });
    await until(() => state().state === 'caught_up' && state().lag === 0, 20_000, 'caught up before the outage');

    await broker.stop();
    await until(() => state().state === 'paused' && state().reason === 'broker_offline', 20_000, 'paused offline');
    for (let i = 0; i < 50; i++) series.record({ event: 'temp', i: 50 + i });
    const written = series.lastSeq;
    const rounds = state().rounds;
    await until(() => state().rounds >= rounds + 5, 20_000, '5 rounds offline');
    expect(state()).toMatchObject({ state: 'paused', reason: 'broker_offline' });
    expect(state().mark).toBeLessThan(written);

    broker = await startAedes({ port: broker.port }); // a new broker host on the same port
    await until(() => state().state === 'caught_up' && state().lag === 0, 30_000, 'caught up after the outage');
    expect(state().mark).toBeGreaterThanOrEqual(written);
    const offline = (await backupEntries(series)).filter((e) => e.reason === 'broker_offline');
    expect(offline).toHaveLength(1); // once, not once per round
  }, 90_000);
});

/**
 * Limiters through real nodes on a real Aedes: storage_full with no partial data, an intent storm
 * answered NO rate_limited with bounded tables and YES after the window, and replay of every
 * decision the nodes recorded.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { loadBoard, parseBoard } from '../../devices/boards/index.js';
import { decode, encode } from '../../src/cbor/index.js';
import { MAX_PENDING_INTENTS } from '../../src/intent/constants.js';
import type { IntentHandler } from '../../src/intent/types.js';
import type { LimiterGate } from '../../src/limiters/gate.js';
import {
  DEFAULT_MAX_SUBJECTS,
  LIMITERS_VIEW,
  type LimiterTally,
  readLimiterHistory,
  replaySeries,
} from '../../src/limiters/index.js';
import { createNode, type DamesoNode, type Service } from '../../src/node.js';
import type { ReplyEnvelope } from '../../src/protocol/types.js';
import { tinyStorageBoard } from '../helpers/boards.js';
import { aedesSuite } from '../helpers/node-fixtures.js';

const KiB = 1024;
const _MiB = 1024 * KiB;
// Nodes here are built with createNode directly (the real limiters gate them; NodePool.start pins
// the always-YES gate), so the pool only tracks them and their folders for cleanup.
const suite = aedesSuite();
const { pool } = suite;

function tmp(): Promise<string> {
  return pool.dir('dameso-limnode-');
}

async function node(id: string, o: Partial<Parameters<typeof createNode>[0]> = {}): Promise<DamesoNode> {
  const n = createNode({ id, broker: suite.url, dataDir: await tmp(), rosterQuietMs: 50, ...o });
  pool.nodes.push(n);
  await n.start();
  return n;
}

/** Resolve when `check()` holds, re-checking on timer turns; rejects after `ms` (hang guard only). */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function replay(n: DamesoNode) {
  await n.series.flush();
  return replaySeries(n.series);
}

describe('limiters in a real node', () => {
  it('real bytes in the data folder lower economic; at the budget: NO storage_full, no partial data', async () => {
    const tiny = tinyStorageBoard(); // only storage may refuse here
    let calls = 0;
    const dataDir = await tmp();
    const storeDir = join(dataDir, 'store');
    // A chunk store stand-in: real files in the data folder, counted by their real size on disk.
    let storedBytes = 0;
    const put = async (name: string, bytes: Uint8Array): Promise<void> => {
      await mkdir(storeDir, { recursive: true });
      await writeFile(join(storeDir, name), bytes);
      storedBytes += (await stat(join(storeDir, name))).size;
    };
    const blobs: Service = { name: 'blobs', create: () => ({ usedBytes: () => storedBytes, stop() {} }) };
    const store: IntentHandler = {
      kind: 'store_chunk',
      role: 'bt',
      async handle(intent) {
        calls++;
        await put(intent.envelope.subject ?? 'x', intent.envelope.body as Uint8Array);
        return { r: 'yes' };
      },
    };
    const r1 = await node('full1', { roles: ['bt'], handlers: [store], services: [blobs], device: tiny, dataDir });
    const gate = r1.gate as LimiterGate;
    const req = await node('req1');
    const body = new Uint8Array(2 * KiB).fill(9);

    const first = await req.declare('store_chunk', { subject: 'c1', body, deadlineMs: 3000, to: ['full1'] });
    expect(first.yes.map((y) => y.envelope.from)).toEqual(['full1']);
    expect(existsSync(join(storeDir, 'c1'))).toBe(true); // the handler really writes when allowed

    // Series bytes count: 1 MiB of entries is a quarter of the 4 MiB budget.
    const e0 = gate.values().economic;
    const pad = new Uint8Array(64 * KiB).fill(1);
    for (let i = 0; i < 16; i++) await r1.series.append({ event: 'fill', pad });
    const e1 = gate.values().economic;
    expect(e1).toBeLessThan(e0 - 0.2);
    // Stored files count too: fill the store until the node is under the storage_full threshold.
    let n = 0;
    while (gate.values().economic >= 0.2) await put(`fill${n++}`, pad);
    expect(gate.values().economic).toBeLessThan(0.2);

    const filesBefore = await readdir(storeDir);
    const full = await req.declare('store_chunk', { subject: 'c2', body, deadlineMs: 3000, to: ['full1'] });
    expect(full.no.map((n) => n.envelope.reason)).toEqual(['storage_full']);
    expect(full.no[0]!.envelope.lim!.economic).toBeLessThan(0.2);
    expect(full.no[0]!.envelope.retry).toBeUndefined();
    expect(calls).toBe(1); // the handler never ran: nothing half-written
    expect(await readdir(storeDir)).toEqual(filesBefore);
    expect(existsSync(join(storeDir, 'c2'))).toBe(false);

    const report = await replay(r1);
    expect(report.decisions).toBe(2);
    expect(report.limiterNo).toBe(1);
    expect(report.mismatches).toEqual([]);
    const tally = r1.series.view<LimiterTally>(LIMITERS_VIEW);
    expect(tally).toMatchObject({ decisions: 2, yes: 1, no: { storage_full: 1 }, config: { board: 'tiny' } });
    // What `dameso limits --data DIR --replay` reads from the running node's folder (read-only, no lock).
    const history = await readLimiterHistory(dataDir, { replay: true });
    expect(history?.tally).toMatchObject({ decisions: 2, no: { storage_full: 1 } });
    expect(history?.replay).toMatchObject({ decisions: 2, matched: 2 });
  });

  it('a storm at 10x capacity: NO rate_limited, still answering, tables bounded, YES after the window', async () => {
    const g = loadBoard('generic');
    const cap = 100;
    const windowMs = 1500;
    // CPU budgets out of reach: this test is about the rate limiter, and on a shared 2-core machine a
    // loaded event loop could otherwise (truthfully) add cpu_busy NOs.
    const board = parseBoard(
      {
        ...g,
        board: 'stormy',
        intents: { capacityPerWindow: cap, windowMs },
        cpu: { ...g.cpu, budgetCores: 64, loopDelayBudgetMs: 60_000 },
      },
      'test',
    );
    const want: IntentHandler = { kind: 'want_chunk', role: 'bt', handle: () => ({ r: 'yes', data: 'x' }) };
    const s1 = await node('storm1', { roles: ['bt'], handlers: [want], device: board });
    const gate = s1.gate as LimiterGate;
    const req = await node('req2');

    const client = await mqtt.connectAsync(suite.url, { clientId: 'stormer', protocolVersion: 4 });
    const replies: ReplyEnvelope[] = [];
    client.on('message', (_t, payload) => replies.push(decode(payload) as ReplyEnvelope));
    await client.subscribeAsync('dameso/v1/reply/stormer', { qos: 0 });
    const total = cap * 10;
    for (let i = 0; i < total; i++) {
      const env = {
        v: 1,
        id: `s${i}`,
        from: 'stormer',
        session: 1,
        kind: 'want_chunk',
        t: Date.now(),
        deadline: 10_000,
        subject: `c${i % 10}`,
      };
      client.publish('dameso/v1/intent/want_chunk', encode(env), { qos: 0 });
    }
    // Still responsive mid-storm: a valid intent from a real node gets an answer (not silence).
    const mid = await req.declare('want_chunk', { subject: 'm', deadlineMs: 5000, to: ['storm1'] });
    expect(mid.yes.length + mid.no.length).toBe(1);
    expect(mid.silence).toEqual([]);

    await until(() => replies.length >= total, 15_000, 'every storm intent answered');
    await client.endAsync();
    const byReason: Record<string, number> = {};
    for (const r of replies) {
      const k = r.r === 'yes' ? 'yes' : (r.reason ?? '?');
      byReason[k] = (byReason[k] ?? 0) + 1;
    }
    expect(byReason.rate_limited ?? 0).toBeGreaterThan(total * 0.7);
    expect(Object.keys(byReason).filter((k) => k !== 'yes' && k !== 'rate_limited')).toEqual([]);
    for (const r of replies) if (r.reason === 'rate_limited') expect(r.retry).toBeGreaterThan(0);

    // Bounded: the window is a fixed ring, subjects capped, pending and in-flight capped.
    expect(gate.limiters.w_tracking.buckets).toBe(20);
    expect(gate.limiters.objective.tracked()).toBeLessThanOrEqual(2 * DEFAULT_MAX_SUBJECTS);
    const st = s1.stats().intents;
    expect(st.answer.received).toBeGreaterThanOrEqual(total);
    expect(req.stats().intents.declare.pending).toBeLessThanOrEqual(MAX_PENDING_INTENTS);

    // After the window the node says YES again.
    await until(() => gate.values().w_tracking > 0.7, windowMs * 4, 'the window to drain');
    const after = await req.declare('want_chunk', { subject: 'after', deadlineMs: 3000, to: ['storm1'] });
    expect(after.yes.map((y) => y.envelope.from)).toEqual(['storm1']);

    const report = await replay(s1);
    expect(report.decisions).toBeGreaterThan(total * 0.7);
    expect(report.limiterNo).toBeGreaterThan(total * 0.7);
    expect(report.mismatches).toEqual([]);
  }, 30_000);
});

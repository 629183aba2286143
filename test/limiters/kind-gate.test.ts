import { describe, expect, it } from 'vitest';
import { createChunksService } from '../../src/chunks/index.js';
import type { LimiterGate } from '../../src/limiters/gate.js';
import { consumesStorage, decide, replayDecisions, replaySeries } from '../../src/limiters/index.js';
import { silentLogger } from '../../src/log.js';
import { createNode } from '../../src/node.js';
import { buildChunk } from '../../src/series/index.js';
import { tinyStorageBoard } from '../helpers/boards.js';
import { aedesSuite } from '../helpers/node-fixtures.js';

const KiB = 1024;
const _MiB = 1024 * KiB;
// Nodes here are built with createNode directly (the real limiters gate them; NodePool.start pins
// the always-YES gate), so the pool only tracks them and their folders for cleanup.
const suite = aedesSuite();
const { pool } = suite;

function tmp(): Promise<string> {
  return pool.dir('dameso-kindgate-');
}

describe('per-kind gate policy', () => {
  it('the cost table: only store_chunk consumes storage; an unknown kind keeps the check', () => {
    expect(consumesStorage('store_chunk')).toBe(true);
    for (const k of ['want_chunk', 'want_chunks', 'want_observations']) expect(consumesStorage(k)).toBe(false);
    expect(consumesStorage(undefined)).toBe(true);
    expect(consumesStorage('toString')).toBe(false); // no prototype leak through the table
    const full = { economic: 0.05, cpu: 1, memory: 1, w_tracking: 1, objective: 1, topology: 1 };
    expect(decide(full, undefined, {}, { storage: true })).toEqual({ r: 'no', reason: 'storage_full' });
    expect(decide(full, undefined, {}, { storage: false })).toEqual({ r: 'yes' });
    // Rate limits still apply to reads.
    expect(decide({ ...full, w_tracking: 0.1 }, undefined, {}, { storage: false })).toMatchObject({
      r: 'no',
      reason: 'rate_limited',
    });
  });

  it('a full storage node: NO storage_full to store_chunk, YES to want_chunk and want_chunks; replay exact', async () => {
    const tiny = tinyStorageBoard(); // only storage may refuse here
    const bt = createNode({
      id: 'bt-full',
      roles: ['bt'],
      broker: suite.url,
      dataDir: await tmp(),
      services: [createChunksService({ track: false })],
      device: tiny,
      rosterQuietMs: 50,
      log: silentLogger,
    });
    pool.nodes.push(bt);
    await bt.start();
    const req = createNode({
      id: 'req-kind',
      broker: suite.url,
      dataDir: await tmp(),
      rosterQuietMs: 50,
      log: silentLogger,
    });
    pool.nodes.push(req);
    await req.start();
    const gate = bt.gate as LimiterGate;

    const { id, bytes } = buildChunk('req-kind', [{ seq: 1, t: 1, event: 'obs', v: 1 }]);
    const stored = await req.declare('store_chunk', { subject: id, body: bytes, deadlineMs: 3000, to: ['bt-full'] });
    expect(stored.no.map((n) => n.envelope.reason)).toEqual([]);
    expect(stored.yes.map((y) => y.envelope.from)).toEqual(['bt-full']);

    // Fill the node with real bytes: its series ring, then real chunks stored through store_chunk.
    const pad = new Uint8Array(64 * KiB).fill(1);
    for (let i = 0; i < 32; i++) await bt.series.append({ event: 'fill', pad });
    for (let i = 0; i < 40 && gate.values().economic >= 0.2; i++) {
      const c = buildChunk('req-kind', [{ seq: 10 + i, t: i, event: 'pad', pad: new Uint8Array(200 * KiB).fill(i) }]);
      await req.declare('store_chunk', { subject: c.id, body: c.bytes, deadlineMs: 3000, to: ['bt-full'] });
    }
    expect(gate.values().economic).toBeLessThan(0.2);

    const other = buildChunk('req-kind', [{ seq: 2, t: 2, event: 'obs', v: 2 }]);
    const refused = await req.declare('store_chunk', {
      subject: other.id,
      body: other.bytes,
      deadlineMs: 3000,
      to: ['bt-full'],
    });
    expect(refused.no.map((n) => n.envelope.reason)).toEqual(['storage_full']);

    const want = await req.declare('want_chunk', { subject: id, deadlineMs: 3000, to: ['bt-full'] });
    expect(want.no).toEqual([]);
    expect(want.yes.map((y) => y.envelope.from)).toEqual(['bt-full']);
    expect(want.yes[0]!.envelope.lim!.economic).toBeLessThan(0.2); // served although full

    const list = await req.declare('want_chunks', { body: {}, deadlineMs: 3000, to: ['bt-full'] });
    expect(list.yes.map((y) => y.envelope.from)).toEqual(['bt-full']);

    await bt.series.flush();
    const report = await replaySeries(bt.series);
    expect(report.decisions).toBeGreaterThan(4);
    expect(report.limiterNo).toBe(1);
    expect(report.mismatches).toEqual([]);

    // The kind is what makes replay exact: the same entries replayed kind-blind would disagree.
    const decisions = [];
    for await (const e of bt.series.read({ event: 'decision' })) decisions.push(e);
    const blind = await replayDecisions(decisions.map(({ kind: _k, ...e }) => e));
    expect(blind.mismatches.map((m) => m.replayed)).toEqual([
      { r: 'no', reason: 'storage_full' },
      { r: 'no', reason: 'storage_full' },
    ]);
  });
});

/**
 * Chunks across real nodes: one real Aedes broker, five bt storage nodes (one of them a child
 * process that is SIGKILLed), replication K = 3, a liar, a full node, bad bodies.
 */
import type { ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChunksInstance, type PushSeriesProgress, rankCandidates } from '../../src/chunks/index.js';
import type { Entry } from '../../src/series/types.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { createField, type Field, type FieldNode } from '../helpers/chunks-field.js';
import { flipByte, hex, makeChunk, wrapKind } from '../helpers/chunks-fixtures.js';

let broker: BrokerHandle;
let field: Field;
let bt: FieldNode[];
let child: ChildProcess;
let pusher: FieldNode;
const CHILD_ID = 'bt-child';

async function entries(n: FieldNode, event: string): Promise<Entry[]> {
  await n.node.series.flush();
  const out: Entry[] = [];
  for await (const e of n.node.series.read({ event })) out.push(e);
  return out;
}

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Starts a node and waits until the pusher's roster has it (expected responders come from the roster). */
async function startSeen(id: string, o?: Parameters<Field['start']>[1]): Promise<FieldNode> {
  const n = await field.start(id, o);
  await until(() => pusher.node.roster.get(id)?.online === true, `${id} in the pusher's roster`);
  return n;
}

beforeAll(async () => {
  broker = await startAedes();
  field = await createField(broker.url);
  bt = [];
  for (const id of ['bt-1', 'bt-2', 'bt-3', 'bt-4']) bt.push(await field.start(id));
  child = await field.spawn(CHILD_ID);
  pusher = await field.start('pusher', { roles: [], chunks: { replicas: 3, maxEntries: 20 } });
  await until(
    () => pusher.node.roster.online().filter((p) => p.roles.includes('bt')).length === 5,
    'five bt nodes online',
  );
});

afterAll(async () => {
  await field?.stopAll();
  await broker?.stop();
});

describe('chunks across five bt nodes, replication 3', () => {
  it('pushes each chunk of the series to three holders, who announce it with retained have records', async () => {
    for (let i = 0; i < 50; i++) await pusher.node.series.append({ event: i % 3 ? 'temp' : 'gps', i });
    const told: PushSeriesProgress[] = [];
    const res = await pusher.chunks.pushSeries({}, { onProgress: (p) => told.push(p) });
    expect(res.chunks.length).toBeGreaterThanOrEqual(3);
    // Progress after each chunk: counts up to the result, and the last one is at the range's end.
    expect(told.map((p) => p.chunks)).toEqual(res.chunks.map((_, i) => i + 1));
    expect(told.at(-1)).toMatchObject({
      atSeq: res.toSeq,
      met: res.chunks.length,
      bytes: res.chunks.reduce((n, c) => n + c.size, 0),
    });
    for (const c of res.chunks) {
      expect(c.met).toBe(true);
      expect(c.holders).toHaveLength(3);
      const holders = await bt[0]!.chunks.whoHas(c.id);
      const announced = new Set([...holders.map((h) => h.node), ...(c.holders.includes('bt-1') ? ['bt-1'] : [])]);
      for (const h of c.holders) expect(announced.has(h)).toBe(true);
    }
    // A holder asking for its own chunk reads it from its store, without an intent.
    const own = res.chunks[0]!;
    // (3 of 5 hold it and only one bt node is the child, so an in-process holder exists.)
    const holder = bt.find((n) => own.holders.includes(n.id))!;
    expect(await holder.chunks.fetch(own.id)).toMatchObject({ from: holder.id, attempts: [] });
    // A second push finds nothing new: the push mark moved past the replicated chunks.
    const again = await pusher.chunks.pushSeries();
    expect(again.chunks.length).toBeLessThanOrEqual(1);
  });

  it('want_chunks answers with the matching ids from the holders, without reading chunks', async () => {
    const outcome = await pusher.node.declare('want_chunks', { body: { node: 'pusher', event: 'gps' } });
    expect(outcome.yes.length).toBeGreaterThan(0);
    for (const y of outcome.yes) {
      const ids = y.envelope.data as string[];
      expect(Array.isArray(ids) && ids.length > 0).toBe(true);
    }
  });

  it('a SIGKILLed holder: the chunk is fetched from another; restarted, it announces again', async () => {
    // Push chunks until the child holds one (rendezvous ranking decides who holds what).
    let held: { id: string; bytes: Uint8Array } | undefined;
    for (let s = 1000; s < 1200 && !held; s += 10) {
      const c = makeChunk('pusher', { firstSeq: s, entries: 5 });
      const r = await pusher.chunks.pushChunk(c);
      expect(r.met).toBe(true);
      if (r.holders.includes(CHILD_ID)) held = c;
    }
    if (!held) throw new Error('the child never became a holder');
    const chunk = held;
    await until(async () => (await pusher.chunks.whoHas(chunk.id)).some((h) => h.node === CHILD_ID), 'child announced');

    child.kill('SIGKILL');
    await until(() => pusher.node.roster.get(CHILD_ID)?.online === false, 'child seen offline (its Will)');
    const holders = await pusher.chunks.whoHas(chunk.id);
    // Its retained record is still there, but it is listed after the online holders.
    expect(holders.at(-1)).toMatchObject({ node: CHILD_ID, online: false });
    const got = await pusher.chunks.fetch(chunk.id);
    expect(got.from).not.toBe(CHILD_ID);
    expect(hex(got.bytes)).toBe(hex(chunk.bytes));

    child = await field.spawn(CHILD_ID);
    await until(() => pusher.node.roster.get(CHILD_ID)?.online === true, 'child back online');
    const after = await pusher.chunks.whoHas(chunk.id);
    expect(after.find((h) => h.node === CHILD_ID)).toMatchObject({ online: true });
    const direct = await pusher.node.declare('want_chunk', { subject: chunk.id, to: [CHILD_ID] });
    expect(direct.yes.map((y) => y.envelope.from)).toEqual([CHILD_ID]);
    expect(hex(direct.yes[0]!.envelope.data as Uint8Array)).toBe(hex(chunk.bytes));
  });

  it('a liar serving flipped bytes is rejected, the chunk comes from elsewhere, and the liar is recorded', async () => {
    const flipping = wrapKind('want_chunk', (h) => ({
      ...h,
      relevant: () => true,
      async handle(i) {
        const a = await h.handle(i);
        return a.r === 'yes' ? { r: 'yes', data: flipByte(a.data as Uint8Array) } : a;
      },
    }));
    const liar = await startSeen('a-liar', { chunks: { wrapHandlers: flipping } });
    // A chunk for which the liar ranks first among the two holders, so it is asked first.
    let c = makeChunk('pusher', { firstSeq: 5000, entries: 6 });
    for (let s = 5001; rankCandidates(c.id, ['a-liar', 'bt-2'])[0] !== 'a-liar'; s++) {
      c = makeChunk('pusher', { firstSeq: s, entries: 6 });
    }
    const stored = await pusher.node.declare('store_chunk', { subject: c.id, body: c.bytes, to: ['a-liar', 'bt-2'] });
    expect(stored.yes.map((y) => y.envelope.from).sort()).toEqual(['a-liar', 'bt-2']);
    const requester = bt[2]!;
    // Both have records have reached the requester's tracker (they travel apart from the replies).
    await until(async () => (await requester.chunks.whoHas(c.id)).length === 2, 'both holders announced');
    const got = await requester.chunks.fetch(c.id);
    expect(got.attempts[0]).toEqual({ node: 'a-liar', result: 'bad_hash' });
    expect(got.from).toBe('bt-2');
    expect(hex(got.bytes)).toBe(hex(c.bytes));
    expect(await entries(requester, 'chunk_rejected')).toMatchObject([
      { from: 'a-liar', id: c.id, reason: 'hash_mismatch' },
    ]);
    await liar.node.stop();
  });

  it('a node at its budget answers NO storage_full with no partial file; with evict it drops the least recently wanted', async () => {
    const a = makeChunk('pusher', { firstSeq: 7000, approxBytes: 3000 });
    const b = makeChunk('pusher', { firstSeq: 7100, approxBytes: 3000 });
    const budget = Math.max(a.bytes.length, b.bytes.length) + 100;
    const full = await startSeen('full', { chunks: { budgetBytes: budget } });
    const evictor = await startSeen('evictor', { chunks: { budgetBytes: budget, whenFull: 'evict' } });
    for (const to of ['full', 'evictor']) {
      const first = await pusher.node.declare('store_chunk', { subject: a.id, body: a.bytes, to: [to] });
      expect(first.yes).toHaveLength(1);
    }
    const refused = await pusher.node.declare('store_chunk', { subject: b.id, body: b.bytes, to: ['full'] });
    expect(refused.no.map((n) => n.envelope.reason)).toEqual(['storage_full']);
    expect(await readdir(join(field.root, 'full', 'chunks'))).toEqual([a.id]);
    // The node's economic limiter reads the store through the service instance.
    expect((full.node.services.chunks as ChunksInstance).usedBytes()).toBe(a.bytes.length);

    const evicted = await pusher.node.declare('store_chunk', { subject: b.id, body: b.bytes, to: ['evictor'] });
    expect(evicted.yes).toHaveLength(1);
    expect(await readdir(join(field.root, 'evictor', 'chunks'))).toEqual([b.id]);
    expect((await entries(evictor, 'evicted_chunk')).map((e) => [e.id, e.reason])).toEqual([[a.id, 'lru']]);
    await until(async () => !(await pusher.chunks.whoHas(a.id)).some((h) => h.node === 'evictor'), 'have withdrawn');
  });

  it('oversized or malformed store_chunk bodies: NO too_large / bad_request, nothing stored', async () => {
    const small = await startSeen('small', { chunks: { maxChunkBytes: 2048 } });
    const big = makeChunk('pusher', { firstSeq: 9000, approxBytes: 8000 });
    const ok = makeChunk('pusher', { firstSeq: 9100 });
    const ask = async (subject: string, body: unknown) =>
      (await pusher.node.declare('store_chunk', { subject, body, to: ['small'] })).no.map((n) => n.envelope.reason);
    expect(await ask(big.id, big.bytes)).toEqual(['too_large']);
    expect(await ask(ok.id, flipByte(ok.bytes))).toEqual(['bad_request']);
    expect(await ask(ok.id, { not: 'bytes' })).toEqual(['bad_request']);
    expect(await ask(ok.id, 'text')).toEqual(['bad_request']);
    expect(await readdir(join(small.dataDir, 'chunks'))).toEqual([]);
    expect(await entries(small, 'chunk_rejected')).toMatchObject([
      { from: 'pusher', id: ok.id, reason: 'hash_mismatch' },
    ]);
  });
  it('a chunk nobody announces is fetched by asking every bt node at once', async () => {
    const c = makeChunk('pusher', { firstSeq: 11_000, entries: 3 });
    const stored = await pusher.node.declare('store_chunk', { subject: c.id, body: c.bytes, to: ['bt-4'] });
    expect(stored.yes).toHaveLength(1);
    // bt-4 keeps the chunk but its have record is withdrawn (as if the broker had lost it).
    await bt[3]!.node.transport.publish(bt[3]!.node.transport.topics.have(c.id, 'bt-4'), null, {
      qos: 1,
      retain: true,
    });
    await until(async () => (await pusher.chunks.whoHas(c.id)).length === 0, 'record withdrawn');
    const got = await pusher.chunks.fetch(c.id);
    expect(got.from).toBe('bt-4');
    expect(hex(got.bytes)).toBe(hex(c.bytes));
  });

  it('a push asking for more replicas than there are bt nodes stops when no candidate is left', async () => {
    const c = makeChunk('pusher', { firstSeq: 12_000, entries: 3 });
    const online = pusher.node.roster.online().filter((p) => p.roles.includes('bt')).length;
    const r = await pusher.chunks.pushChunk(c, { replicas: online + 5 });
    expect(r.met).toBe(false);
    expect(r.holders.length + r.refused.length + r.silent.length + r.offline.length).toBe(online);
    expect(r.rounds).toBeGreaterThanOrEqual(1);
  });
});

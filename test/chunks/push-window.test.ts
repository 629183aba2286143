/**
 * `pushSeries` keeps several chunks in flight (real broker, three real bt nodes): outcomes and
 * entries come in chunk order, and the push mark stops before the first chunk short of K even
 * when later chunks, already in flight, were replicated.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChunksState, streamChunks } from '../../src/chunks/index.js';
import type { Chunk, Entry } from '../../src/series/types.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { createField, type Field, type FieldNode } from '../helpers/chunks-field.js';
import { wrapKind } from '../helpers/chunks-fixtures.js';

let broker: BrokerHandle;
let field: Field;
let pusher: FieldNode;
/** Every bt node answers NO storage_full to a store of this chunk id. */
let refused = '';

const refusing = wrapKind('store_chunk', (h) => ({
  ...h,
  handle: (i) => (i.envelope.subject === refused ? { r: 'no', reason: 'storage_full' } : h.handle(i)),
}));

beforeAll(async () => {
  broker = await startAedes();
  field = await createField(broker.url);
  for (const id of ['bt-1', 'bt-2', 'bt-3']) await field.start(id, { chunks: { wrapHandlers: refusing } });
  pusher = await field.start('pusher', { roles: [], chunks: { replicas: 3, maxEntries: 5, pushWindow: 4 } });
  for (let i = 0; i < 300 && pusher.node.roster.online().length < 3; i++) await new Promise((r) => setTimeout(r, 20));
});

afterAll(async () => {
  await field?.stopAll();
  await broker?.stop();
});

async function pushedEntries(): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const e of pusher.node.series.read({ event: 'chunk_pushed' })) out.push(e);
  return out;
}

describe('pushSeries with a window of 4', () => {
  it('marks only the prefix before a chunk short of K; the next push starts at that chunk', async () => {
    const series = pusher.node.series;
    for (let i = 0; i < 40; i++) series.record({ event: 'temp', i });
    await series.flush();
    const from = series.view<ChunksState>('chunks').pushed_to_seq + 1;
    const planned: Chunk[] = [];
    for await (const c of streamChunks(series, 'pusher', from, series.lastSeq, { maxEntries: 5 })) planned.push(c);
    expect(planned.length).toBeGreaterThanOrEqual(7);
    refused = planned[2]!.id; // the third chunk cannot reach K

    const res = await pusher.chunks.pushSeries({ toSeq: planned.at(-1)!.chunk.last_seq });
    // The third is short. With 4 in flight, the 4th, 5th and 6th were sent before its outcome was
    // taken (one at a time, the push would have ended at the third): they are settled, no more.
    const ids = res.chunks.map((c) => c.id);
    expect(ids).toEqual(planned.slice(0, 6).map((c) => c.id));
    expect(res.chunks.map((c) => c.met)).toEqual(ids.map((id) => id !== refused));
    expect(res.chunks[2]!.refused.map((r) => r.reason)).toEqual(['storage_full', 'storage_full', 'storage_full']);

    // Entries in chunk order; the mark is the second chunk's end, though later ones met K.
    const entries = (await pushedEntries()).slice(-ids.length);
    expect(entries.map((e) => e.id)).toEqual(ids);
    expect(entries.map((e) => e.last_seq)).toEqual(ids.map((_, i) => (i < 2 ? planned[i]!.chunk.last_seq : undefined)));
    expect(series.view<ChunksState>('chunks').pushed_to_seq).toBe(planned[1]!.chunk.last_seq);

    // Refusal over: the next push starts at the third chunk (the ones after it are re-sent, and held).
    refused = '';
    const again = await pusher.chunks.pushSeries({ toSeq: planned.at(-1)!.chunk.last_seq });
    expect(again.fromSeq).toBe(planned[2]!.chunk.first_seq);
    expect(again.chunks.map((c) => c.id)).toEqual(planned.slice(2).map((c) => c.id));
    expect(again.chunks.every((c) => c.met)).toBe(true);
    expect(series.view<ChunksState>('chunks').pushed_to_seq).toBe(planned.at(-1)!.chunk.last_seq);
  });
});

/**
 * A self-made "chunk" cannot stall a storage node. The id of a store_chunk is the SHA-256 of its
 * body, which the sender computes itself, so the hash proves nothing about what the body holds: a
 * chunk-shaped map whose entry carries a 200 KB bignum or a 26-level shared-reference DAG hashes
 * right. The node refuses it before decoding (chunk scan): NO `bad_request`, a `chunk_rejected`
 * entry with reason `malformed` against the sender, at a cost per byte within MAX_COST_RATIO of
 * storing an ordinary chunk of the same size (both round trips measured here, on a real broker
 * with a real bt node), and it still serves a normal `want_chunk` afterwards. A holder serving such
 * a body to a `want_chunk` is refused by the fetcher the same way (no copy fetched, `chunk_rejected`
 * `malformed` against the holder).
 *
 * Why 5: a refusal never decodes the body (the scan skips byte string contents and stops at the
 * first tag), while storing the ordinary chunk decodes it and writes a file, so the hostile round
 * trip is expected to be the cheaper one; 5 leaves room for a shared two-core machine. The stalls
 * this guards against grow with the payload (the bignum is worse than quadratic, each DAG level
 * doubles the work) and took seconds.
 */
import { encode } from 'cbor-x';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/chunks/index.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { createField, type Field, type FieldNode } from '../helpers/chunks-field.js';
import { makeChunk, wrapKind } from '../helpers/chunks-fixtures.js';
import { until } from '../helpers/node-fixtures.js';
import { bignum, sharedRefDag } from './cbor-payloads.js';

const MAX_COST_RATIO = 5;
const ROUNDS = 5;

/** A v1 chunk map from `evil` whose one entry holds the raw CBOR `item` (spliced in as written). */
function chunkHolding(item: Uint8Array): Buffer {
  const marker = Buffer.from('__ITEM__');
  const map = { v: 1, node: 'evil', first_seq: 1, last_seq: 1, start_t: 0, end_t: 0 };
  const bytes = Buffer.from(encode({ ...map, events: [{ seq: 1, t: 0, event: 'x', value: '__ITEM__' }] }));
  const at = bytes.indexOf(marker) - 1; // the text head of the marker (one byte: 8 < 24)
  return Buffer.concat([bytes.subarray(0, at), item, bytes.subarray(at + 1 + marker.length)]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

let broker: BrokerHandle;
let field: Field;
let bt: FieldNode;
let evil: FieldNode;
/** The hostile bodies, by id: what the lying holder serves. */
const served = new Map<string, Uint8Array>();
const servesHostile = wrapKind('want_chunk', (h) => ({
  ...h,
  relevant: ({ envelope }) => served.has(envelope.subject ?? ''),
  handle: async ({ envelope }) => ({ r: 'yes', data: served.get(envelope.subject ?? '') }),
}));

beforeAll(async () => {
  broker = await startAedes();
  field = await createField(broker.url);
  bt = await field.start('bt-1');
  await field.start('bt-liar', { chunks: { wrapHandlers: servesHostile } });
  evil = await field.start('evil', { roles: [] });
  await until(
    () => ['bt-1', 'bt-liar'].every((id) => evil.node.roster.get(id)?.online === true),
    10_000,
    'bt-1 and bt-liar in the roster',
  );
});

afterAll(async () => {
  await field?.stopAll();
  await broker?.stop();
});

async function storeChunk(bytes: Uint8Array) {
  const outcome = await evil.node.declare('store_chunk', {
    subject: sha256Hex(bytes),
    body: bytes,
    to: ['bt-1'],
    deadlineMs: 30_000,
  });
  return outcome;
}

/** Median ms per byte of ROUNDS store_chunk round trips, each with a body from `body(round)`. */
async function msPerByte(body: (round: number) => Uint8Array, answer: 'yes' | 'no'): Promise<number> {
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const bytes = body(r);
    const started = performance.now();
    const outcome = await storeChunk(bytes);
    samples.push((performance.now() - started) / bytes.length);
    expect(outcome.closedBy).toBe('all_answered');
    expect(answer === 'yes' ? outcome.yes.length : outcome.no.length).toBe(1);
    if (answer === 'no') expect(outcome.no[0]!.envelope.reason).toBe('bad_request');
  }
  return median(samples);
}

describe('hostile chunk bodies on a real bt node', () => {
  const cases = [
    { name: 'a 200 KB bignum', body: chunkHolding(bignum(200_000)) },
    { name: 'a 26-level tag-28/29 DAG', body: chunkHolding(sharedRefDag(26)) },
  ];
  for (const c of cases) served.set(sha256Hex(c.body), c.body);
  let firstSeq = 1;

  for (const c of cases) {
    it(`refuses a self-made chunk holding ${c.name} (${c.body.length} bytes) as malformed, at the cost of an ordinary store`, async () => {
      // Ordinary chunks of the same size, each new to the node (a held one is answered without a store).
      const ordinary = Array.from({ length: ROUNDS }, () => {
        const chunk = makeChunk('evil', { firstSeq, entries: 8, approxBytes: c.body.length });
        firstSeq += 8;
        return chunk.bytes;
      });
      const ordinaryCost = await msPerByte((r) => ordinary[r]!, 'yes');
      const hostileCost = await msPerByte(() => c.body, 'no');
      const ratio = hostileCost / ordinaryCost;
      if (process.env.DAMESO_HOSTILE_RATIOS) console.log(JSON.stringify({ name: c.name, ratio }));
      expect(ratio).toBeLessThanOrEqual(MAX_COST_RATIO);

      const rejected = await bt.node.series.tail(100, { event: 'chunk_rejected' });
      const mine = rejected.filter((e) => e.id === sha256Hex(c.body));
      expect(mine.length).toBe(ROUNDS);
      expect(mine.every((e) => e.from === 'evil' && e.reason === 'malformed' && e.via === 'store_chunk')).toBe(true);
      expect(bt.chunks.store.has(sha256Hex(c.body))).toBe(false);

      const wanted = ordinary[0]!;
      const outcome = await evil.node.declare('want_chunk', {
        subject: sha256Hex(wanted),
        to: ['bt-1'],
        deadlineMs: 10_000,
      });
      expect(outcome.yes.length).toBe(1);
      expect(Buffer.from(outcome.yes[0]!.envelope.data as Uint8Array).equals(Buffer.from(wanted))).toBe(true);
    });
  }

  it('refuses a want_chunk YES holding such a body: no copy fetched, chunk_rejected malformed against the holder', async () => {
    for (const c of cases) {
      const id = sha256Hex(c.body);
      await expect(evil.chunks.fetch(id, { claimedBy: ['bt-liar'], deadlineMs: 2_000 })).rejects.toThrow(
        /no verified copy/,
      );
    }
    // Recorded without holding up the fetch: polled until both are in the series.
    const recorded = async () =>
      (await evil.node.series.tail(100, { event: 'chunk_rejected' })).filter(
        (e) => e.from === 'bt-liar' && e.reason === 'malformed' && e.via === 'want_chunk',
      );
    const deadline = performance.now() + 10_000;
    while ((await recorded()).length < cases.length && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect((await recorded()).map((e) => e.id).sort()).toEqual(cases.map((c) => sha256Hex(c.body)).sort());
  });
});

/**
 * Every chunk the series builds passes the chunk scan (`scanChunkCbor`), which every decode of
 * chunk bytes from the wire or from disk runs first: random valid entries (the values the series
 * contract allows, plus bigints that fit 64 bits), built directly and read back from a real series.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { streamChunks } from '../../src/chunks/chunker.js';
import { scanChunkCbor } from '../../src/protocol/index.js';
import { buildChunk, decodeChunk } from '../../src/series/index.js';
import type { Entry } from '../../src/series/types.js';
import { cborValue } from '../helpers/cbor-values.js';
import { openSeries } from '../helpers/chunks-series.js';

const fieldValue = fc.oneof(
  cborValue,
  fc.bigInt({ min: -(2n ** 64n) + 1n, max: 2n ** 64n - 1n }),
  fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 20 }),
);
const fields = fc.dictionary(
  fc.string({ maxLength: 20 }).filter((k) => !['seq', 't', 'event', '__proto__'].includes(k)),
  fieldValue,
  { maxKeys: 8 },
);
const entryFields = fc.record({ event: fc.string({ minLength: 1, maxLength: 30 }), t: fc.double(), fields });

function entries(list: { event: string; t: number; fields: Record<string, unknown> }[]): Entry[] {
  return list.map((e, i) => ({ ...e.fields, seq: i + 1, t: e.t, event: e.event }));
}

describe('chunk scan', () => {
  it('passes every chunk buildChunk makes from random valid entries', () => {
    fc.assert(
      fc.property(fc.array(entryFields, { minLength: 1, maxLength: 20 }), (list) => {
        const chunk = buildChunk('node-1', entries(list));
        expect(() => scanChunkCbor(chunk.bytes)).not.toThrow();
        expect(decodeChunk(chunk.bytes).events.length).toBe(list.length);
      }),
      { numRuns: 1000 },
    );
  });

  it('passes every chunk cut from entries read back from a real series', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dameso-chunk-scan-'));
    const series = await openSeries(dir, []);
    try {
      await series.open();
      const list = fc.sample(entryFields, { numRuns: 400, seed: 7 });
      for (const e of list) await series.append({ ...e.fields, event: e.event });
      let chunks = 0;
      for await (const chunk of streamChunks(series, 'node-1', 1, Number.MAX_SAFE_INTEGER, { maxBytes: 4096 })) {
        expect(() => scanChunkCbor(chunk.bytes)).not.toThrow();
        chunks++;
      }
      expect(chunks).toBeGreaterThan(1);
    } finally {
      await series.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a chunk holding a bignum, a shared reference or another tag, with reason cbor_tag', () => {
    const ok = buildChunk('node-1', [{ seq: 1, t: 1, event: 'e', b: new Uint8Array(3) }]).bytes;
    const at = Buffer.from(ok).indexOf(Buffer.from([0xd8, 0x40])); // tag 64 on the byte string
    for (const tag of [2, 3, 28, 29, 1, 65]) {
      const bad = Buffer.from(ok);
      // Two bytes either way: a one-byte tag head on an empty byte string, or 0xd8 and the tag.
      bad.set(tag < 24 ? [0xc0 + tag, 0x40] : [0xd8, tag], at);
      expect(() => scanChunkCbor(bad), `tag ${tag}`).toThrow(expect.objectContaining({ reason: 'cbor_tag' }));
      expect(() => decodeChunk(bad), `tag ${tag}`).toThrow(/cbor_tag/);
    }
  });
});

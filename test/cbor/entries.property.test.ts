/**
 * Series entries and chunk bodies: the bytes are cbor-x's standard encoding without records (the
 * encoding chunks on disk and on the wire were always written in, so their ids stay the same),
 * they decode back to the value, and encoding into a lent buffer gives the same bytes or -1 with
 * nothing outside the buffer's free part touched.
 */
import { Encoder } from 'cbor-x';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeChunkBody, decodeEntry, encodeEntry, encodeEntryInto } from '../../src/cbor/index.js';
import { cborValue } from '../helpers/cbor-values.js';

const reference = new Encoder({ useRecords: false });
const hexOf = (b: Uint8Array) => Buffer.from(b).toString('hex');
const hasProtoKey = (v: unknown): boolean =>
  Array.isArray(v)
    ? v.some(hasProtoKey)
    : typeof v === 'object' && v !== null && !(v instanceof Uint8Array)
      ? Object.hasOwn(v, '__proto__') || Object.values(v).some(hasProtoKey)
      : false;

describe('series entries and chunk bodies', () => {
  it("write cbor-x's standard bytes (no records) for random values, and keep them after later encodes", () => {
    fc.assert(
      fc.property(cborValue, cborValue, (v, w) => {
        const bytes = encodeEntry(v);
        const want = hexOf(reference.encode(v));
        encodeEntry(w);
        expect(hexOf(bytes)).toBe(want);
      }),
      { numRuns: 2000 },
    );
  });

  it('decode back to a value that encodes to the same bytes (a "__proto__" key aside: cbor-x renames it)', () => {
    fc.assert(
      fc.property(cborValue, (v) => {
        fc.pre(!hasProtoKey(v));
        const bytes = hexOf(encodeEntry({ seq: 1, t: 2, event: 'e', v }));
        expect(hexOf(encodeEntry(decodeEntry(Buffer.from(bytes, 'hex'))))).toBe(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it('encode in place into a lent buffer: the same bytes, or -1 with nothing outside it touched', () => {
    fc.assert(
      fc.property(cborValue, fc.nat({ max: 64 }), fc.nat({ max: 600 }), (v, at, room) => {
        const want = hexOf(reference.encode(v));
        const target = Buffer.alloc(at + room, 0xee);
        const end = encodeEntryInto(target, at, v);
        expect(target.subarray(0, at).every((b) => b === 0xee)).toBe(true);
        if (end < 0) {
          expect(room).toBeLessThan(want.length / 2);
          expect(target.every((b) => b === 0xee)).toBe(true);
        } else {
          expect(hexOf(target.subarray(at, end))).toBe(want);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('a chunk body with a bytes field (tag 64) decodes; one with another tag is refused before decoding', () => {
    const body = encodeEntry({ v: 1, node: 'n', events: [{ seq: 1, t: 2, event: 'e', data: new Uint8Array([1, 2]) }] });
    expect(decodeChunkBody(body)).toMatchObject({ v: 1, node: 'n' });
    const bignum = Buffer.from('c249010000000000000000', 'hex'); // tag 2: a bignum
    expect(() => decodeChunkBody(bignum)).toThrow(expect.objectContaining({ reason: 'cbor_tag' }));
  });
});

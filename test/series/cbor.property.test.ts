import { Encoder } from 'cbor-x';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeEntryBytes, encodeEntryInto } from '../../src/series/cbor.js';

const reference = new Encoder({ useRecords: false });
const same = (v: unknown) => {
  const want = Buffer.from(reference.encode(v));
  const got = Buffer.from(encodeEntryBytes(v));
  expect(got.toString('hex')).toBe(want.toString('hex'));
};

const scalar = fc.oneof(
  fc.integer(),
  fc.integer({ min: -(2 ** 33), max: 2 ** 33 }),
  fc.maxSafeInteger(),
  fc.double(),
  fc.constantFrom(
    0,
    -0,
    23,
    24,
    255,
    256,
    65535,
    65536,
    2 ** 32 - 1,
    2 ** 32,
    -24,
    -25,
    -256,
    -257,
    -65536,
    -65537,
    -(2 ** 31),
    -(2 ** 31) - 1,
    -(2 ** 32),
    -(2 ** 32) - 1,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
  ),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 300 }),
);

const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('v'), { maxLength: 30 }),
    fc.dictionary(fc.string({ maxLength: 40 }), tie('v'), { maxKeys: 30 }),
  ),
})).v;

describe('series CBOR fast path', () => {
  it('writes the same bytes as cbor-x for random values', () => {
    fc.assert(fc.property(value, same), { numRuns: 2000 });
  });

  it('writes the same bytes for entries and for what it hands to cbor-x', () => {
    same({ seq: 1, t: 1_764_000_000_000.5, event: 'bench', i: 3, data: new Uint8Array(100).fill(7) });
    same({ seq: 2 ** 40, t: 1, event: 'x', when: new Date(0), buf: Buffer.from('ab'), m: new Map([['a', 1]]) });
    same({ event: 'big', keys: Object.fromEntries(Array.from({ length: 70000 }, (_, i) => [`k${i}`, i])) });
    same({ event: 'e', long: 'é'.repeat(40_000), lone: '\ud800x'.repeat(30), loneLong: '\udc00'.repeat(100) });
    const own = { event: 'e', hasOwnProperty: 1 };
    same(own);
  });

  it('encodes in place into a lent buffer: the same bytes, or -1 with nothing outside it touched', () => {
    fc.assert(
      fc.property(value, fc.nat({ max: 64 }), fc.nat({ max: 600 }), (v, at, room) => {
        const want = Buffer.from(reference.encode(v));
        const target = Buffer.alloc(at + room, 0xee);
        const end = encodeEntryInto(target, at, v);
        expect(target.subarray(0, at).every((b) => b === 0xee)).toBe(true);
        if (end < 0) {
          // The encoder reserves room ahead (a string up to 3 bytes a character), so it may give up
          // a little early, never with ample room.
          expect(room).toBeLessThan(want.length * 3 + 16);
        } else {
          expect(end - at).toBe(want.length);
          expect(target.subarray(at, end).toString('hex')).toBe(want.toString('hex'));
        }
        // The scratch encoder is itself again afterwards.
        expect(Buffer.from(encodeEntryBytes(v)).toString('hex')).toBe(want.toString('hex'));
      }),
      { numRuns: 1000 },
    );
  });
});

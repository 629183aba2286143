import { Encoder } from 'cbor-x';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeEntryBytes, encodeEntryInto } from '../../src/series/cbor.js';
import { cborScalar, cborValue } from '../helpers/cbor-values.js';

const reference = new Encoder({ useRecords: false });
const same = (v: unknown) => {
  const want = Buffer.from(reference.encode(v));
  const got = Buffer.from(encodeEntryBytes(v));
  expect(got.toString('hex')).toBe(want.toString('hex'));
};

const value = cborValue;

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

  it('encodes a frozen object of primitives once, then the same bytes from its copy, nested or not', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 12 }), cborScalar, { maxKeys: 8 }), (d) => {
        if (Object.hasOwn(d, 'hasOwnProperty') || Object.hasOwn(d, '__proto__')) return;
        const lim = Object.freeze({ ...d });
        same(lim);
        same({ seq: 1, t: 2, event: 'decision', lim });
        same({ seq: 2, t: 3, event: 'decision', lim, again: lim }); // the cached bytes, twice
      }),
      { numRuns: 500 },
    );
    // A frozen object holding a mutable one is never cached: what it holds may change.
    const inner = { a: 1 };
    const outer = Object.freeze({ inner });
    same(outer);
    inner.a = 2;
    same(outer);
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

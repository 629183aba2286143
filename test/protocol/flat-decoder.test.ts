/**
 * The hand-written reader must never change what a payload means: on every input it either
 * returns UNUSUAL (the cbor-x path decides) or exactly the value the cbor-x path returns, and it
 * never accepts what that path refuses. Inputs come from a CBOR writer here that picks head
 * widths, float widths, tags, indefinite lengths, odd keys and invalid UTF-8 at random, from
 * mutations of real envelopes, and from random bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, decodeGeneral, encode } from '../../src/protocol/codec.js';
import { decodeFlat, UNUSUAL } from '../../src/protocol/flat-decoder.js';
import { expectSameValue } from '../helpers/same-value.js';
import { have, intent, presence, reply } from './fixtures.js';

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');

/** The property: UNUSUAL, or accepted by both with the same value. */
function agrees(bytes: Uint8Array): 'flat' | 'general' | 'refused' {
  const flat = decodeFlat(bytes);
  let general: unknown;
  try {
    general = decodeGeneral(bytes);
  } catch {
    expect(flat, `flat accepted what cbor-x refuses: ${Buffer.from(bytes).toString('hex')}`).toBe(UNUSUAL);
    return 'refused';
  }
  if (flat === UNUSUAL) return 'general';
  expectSameValue(flat, general);
  return 'flat';
}

// ---- a CBOR writer that picks encodings at random -------------------------------------------------

type Piece = Uint8Array;
const cat = (...parts: Piece[]) => Buffer.concat(parts);

/** A head (major type, argument) in the shortest width or a wider one. */
const head = (major: number, n: number) =>
  fc.integer({ min: 0, max: 3 }).map((widen): Piece => {
    const m = major << 5;
    const minimal = n < 24 ? 0 : n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x100000000 ? 3 : 4;
    const width = Math.min(4, Math.max(minimal, minimal + (widen === 3 ? 1 : 0)));
    if (width === 0) return Buffer.from([m | n]);
    if (width === 1) return Buffer.from([m | 24, n]);
    if (width === 2) return Buffer.from([m | 25, n >> 8, n & 0xff]);
    if (width === 3) {
      const b = Buffer.alloc(5);
      b[0] = m | 26;
      b.writeUInt32BE(n, 1);
      return b;
    }
    const b = Buffer.alloc(9);
    b[0] = m | 27;
    b.writeBigUInt64BE(BigInt(n), 1);
    return b;
  });

const text = (s: string | Uint8Array) => {
  const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  return head(3, bytes.length).map((h) => cat(h, bytes));
};

const keyText = fc.oneof(
  fc.constantFrom('v', 'id', 'from', 'session', 'r', 'lim', 'data', '__proto__', '', '1', 'constructor', 'toString'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.uint8Array({ maxLength: 6 }),
);

const scalar: fc.Arbitrary<Piece> = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 32 + 5 }).chain((n) => head(0, n)),
  fc.integer({ min: 0, max: 2 ** 32 + 5 }).chain((n) => head(1, n)),
  fc.uint8Array({ maxLength: 40 }).chain((b) => head(2, b.length).map((h) => cat(h, b))),
  fc
    .oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 8 }), fc.uint8Array({ maxLength: 8 }))
    .chain(text),
  fc.constantFrom(0xf4, 0xf5, 0xf6, 0xf7, 0xe0, 0xf3, 0xff).map((b) => Buffer.from([b])),
  fc.uint8Array({ minLength: 2, maxLength: 2 }).map((b) => cat(Buffer.from([0xf9]), b)),
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => cat(Buffer.from([0xfa]), b)),
  fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => cat(Buffer.from([0xfb]), b)),
  fc.double().map((d) => {
    const b = Buffer.alloc(9);
    b[0] = 0xfb;
    b.writeDoubleBE(d, 1);
    return b;
  }),
);

const { item } = fc.letrec<{ item: Piece; entry: Piece }>((tie) => ({
  item: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('item'), { maxLength: 5 }).chain((xs) => head(4, xs.length).map((h) => cat(h, ...xs))),
    fc.array(tie('entry'), { maxLength: 6 }).chain((xs) => head(5, xs.length).map((h) => cat(h, ...xs))),
    // indefinite-length array and map, tags, a text key that is a number
    fc.array(tie('item'), { maxLength: 3 }).map((xs) => cat(Buffer.from([0x9f]), ...xs, Buffer.from([0xff]))),
    fc.array(tie('entry'), { maxLength: 3 }).map((xs) => cat(Buffer.from([0xbf]), ...xs, Buffer.from([0xff]))),
    fc.tuple(fc.integer({ min: 0, max: 27 }), tie('item')).map(([t, x]) => cat(Buffer.from([0xc0 | t]), x)),
  ),
  entry: fc.oneof(
    { weight: 6, arbitrary: fc.tuple(keyText.chain(text), tie('item')).map(([k, v]) => cat(k, v)) },
    { weight: 1, arbitrary: fc.tuple(tie('item'), tie('item')).map(([k, v]) => cat(k, v)) },
  ),
}));

const envelopes = [
  presence(),
  intent(),
  reply(),
  reply('node-3', { r: 'no', reason: 'cpu_busy', retry: 250 }),
  reply('node-4', {
    data: Buffer.alloc(64, 7),
    lim: { economic: 1, cpu: 0.93, memory: 0.5, w_tracking: 1, objective: 0.25, topology: 1e-9 },
  }),
  have(),
  { v: 1, node: 'n', nonce: '01JDAMESO0000000000000000', t: 1.5 },
  intent('n', { to: ['a', 'b'], body: { deep: [1, -2, 3.5, null, true, false, { x: new Uint8Array([1]) }] } }),
].map((e) => encode(e));

describe('flat decoder', () => {
  it('reads every envelope family dameso writes itself (the fast path is the common path)', () => {
    for (const bytes of envelopes) {
      expect(decodeFlat(bytes)).not.toBe(UNUSUAL);
      expect(agrees(bytes)).toBe('flat');
    }
  });

  it('returns byte strings as views of the input, like cbor-x', () => {
    const bytes = encode(reply());
    const data = (decodeFlat(bytes) as { data: Uint8Array }).data;
    expect(data).toBeInstanceOf(Buffer);
    expect(data.buffer).toBe(bytes.buffer);
  });

  it('leaves __proto__ keys, tags, indefinite lengths, 64-bit integers and non-ASCII text to cbor-x', () => {
    for (const h of [
      'a1 69 5f5f70726f746f5f5f 01', // {"__proto__": 1}
      'c1 1a 5f000000', // tag 1 (epoch time)
      'bf 6176 01 ff', // indefinite map
      '1b 0000000100000000', // 2^32 as a 64-bit head
      'a1 6176 63 e282ac', // {"v": "€"}
      'a1 62 c3a9 01', // {"é": 1}
    ]) {
      expect(decodeFlat(hex(h)), h).toBe(UNUSUAL);
      expect(agrees(hex(h))).not.toBe('flat');
    }
    // Through the public decode, the result is cbor-x's.
    expect(decode(hex('a1 6176 63 e282ac'))).toEqual({ v: '€' });
  });

  it('reads half, single and double floats as cbor-x does, -0 and NaN included', () => {
    for (const h of ['f9 3c00', 'f9 8000', 'f9 7c00', 'f9 7e00', 'f9 0001', 'fa 47c35000', 'fb 3fb999999999999a']) {
      expect(agrees(hex(h)), h).toBe('flat');
    }
  });

  it('tells apart keys of the same length that share a cache slot', () => {
    // Many distinct keys of one length: some fall in the same slot of the key cache.
    const keys = Array.from({ length: 600 }, (_, i) => `k${String(i).padStart(3, '0')}`);
    for (let round = 0; round < 2; round++) {
      for (const k of keys) expect((decodeFlat(encode({ [k]: k })) as Record<string, string>)[k]).toBe(k);
    }
  });

  it('agrees with cbor-x on randomly encoded CBOR items', () => {
    fc.assert(
      fc.property(item, (bytes) => {
        agrees(bytes);
      }),
      { numRuns: 4000 },
    );
  });

  it('agrees with cbor-x on values the codec encodes', () => {
    const value = fc.oneof(
      fc.jsonValue(),
      fc.dictionary(fc.string(), fc.oneof(fc.double(), fc.uint8Array(), fc.boolean(), fc.constant(null))),
    );
    fc.assert(
      fc.property(value, (v) => {
        agrees(encode(v));
      }),
      { numRuns: 1000 },
    );
  });

  it('agrees with cbor-x on mutated, truncated and extended envelopes', () => {
    const mutation = fc.tuple(
      fc.constantFrom(...envelopes),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
      fc.integer({ min: -4, max: 2 }),
    );
    fc.assert(
      fc.property(mutation, ([original, flips, resize]) => {
        const bytes = Buffer.from(original);
        for (const [at, value] of flips) bytes[at % bytes.length] = value;
        const sized =
          resize < 0 ? bytes.subarray(0, Math.max(1, bytes.length + resize)) : cat(bytes, Buffer.alloc(resize, 0));
        agrees(sized);
      }),
      { numRuns: 4000 },
    );
  });

  it('agrees with cbor-x on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
        agrees(bytes);
      }),
      { numRuns: 3000 },
    );
  });
});

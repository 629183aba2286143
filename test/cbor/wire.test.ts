import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../src/cbor/index.js';
import { BadCborError } from '../../src/protocol/errors.js';

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');

describe('codec', () => {
  it('encodes maps as standard CBOR with text keys and shortest headers', () => {
    // {"v": 1, "b": h'0102'} — RFC 8949 bytes any CBOR library produces.
    expect(Buffer.from(encode({ v: 1, b: new Uint8Array([1, 2]) })).toString('hex')).toBe(
      'a261760161624201 02'.replace(/\s/g, ''),
    );
    expect(Buffer.from(encode({ a: [1, 'x'] })).toString('hex')).toBe('a161618201 6178'.replace(/\s/g, ''));
  });

  it('uses no records/structures extension (tag 0xdfff…) even for repeated shapes', () => {
    const bytes = Buffer.from(encode([{ a: 1 }, { a: 2 }, { a: 3 }]));
    expect(bytes.toString('hex')).toBe('83a16161 01a16161 02a16161 03'.replace(/\s/g, ''));
  });

  it('decodes bytes written by other CBOR encoders (wider headers, UTF-8 text), refuses indefinite lengths', () => {
    // map with a 16-bit length header (cbor-x default without variableMapSize)
    expect(decode(hex('b9 0001 6176 01'))).toEqual({ v: 1 });
    // 1 as a 64-bit head: inside ±(2^53 − 1), kept as cbor-x reads it
    expect(decode(hex('a1 6176 1b 0000000000000001'))).toEqual({ v: 1n });
    expect(decode(hex('a1 6176 63 e282ac'))).toEqual({ v: '€' });
    // indefinite-length map {_ "v": 1, "s": "x"}: outside the v1 subset
    expect(() => decode(hex('bf 6176 01 6173 6178 ff'))).toThrow(
      expect.objectContaining({ code: 'DAMESO_BAD_CBOR', reason: 'cbor_indefinite' }),
    );
  });

  it('returns byte strings as Uint8Array and fresh copies from encode', () => {
    const a = encode({ d: new Uint8Array([9]) });
    const b = encode({ d: new Uint8Array([8]) });
    expect(decode(a)).toEqual({ d: Buffer.from([9]) });
    expect(decode(b)).toEqual({ d: Buffer.from([8]) });
    expect((decode(a) as { d: unknown }).d).toBeInstanceOf(Uint8Array);
  });

  it('refuses non-text map keys, trailing bytes, empty input and truncation with BadCborError and its reason', () => {
    const cases: [Buffer, string][] = [
      [hex('a1 01 02'), 'bad_cbor'], // {1: 2}
      [hex('a1 6161 a1 01 02'), 'bad_cbor'], // {"a": {1: 2}}
      [hex('a1 6176 01 00'), 'cbor_trailing'], // trailing byte
      [hex(''), 'bad_cbor'],
      [hex('a2 6176 01'), 'cbor_length'], // truncated map
      [hex('ff'), 'bad_cbor'],
      [hex('7f'), 'cbor_indefinite'], // unterminated indefinite text
      [hex('c2 41 01'), 'cbor_tag'], // bignum 1
      [hex('1b 0020000000000000'), 'cbor_int_range'], // 2^53
      [hex('5a ffffffff 00'), 'cbor_length'], // a byte string claiming 4 GiB
    ];
    for (const [bytes, reason] of cases) {
      let thrown: unknown;
      try {
        decode(bytes);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, bytes.toString('hex')).toBeInstanceOf(BadCborError);
      expect((thrown as BadCborError).reason, bytes.toString('hex')).toBe(reason);
    }
  });

  it('keeps a "__proto__" key as a plain own property', () => {
    const value = decode(hex('a1 69 5f5f70726f746f5f5f a1 6178 01')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('bounds nesting depth', () => {
    // A 2000-byte string innermost keeps the maps and arrays within their bound (one per 16 bytes).
    const padding = Buffer.concat([hex('59 07d0'), Buffer.alloc(2000, 7)]);
    const deep = Buffer.concat([Buffer.alloc(100, 0x81), padding]);
    expect(() => decode(deep)).toThrow(expect.objectContaining({ reason: 'cbor_depth' }));
    // Nested maps (the plain-object fast path): 65 levels refused, 64 accepted.
    const maps = (n: number) => Buffer.concat([...Array.from({ length: n }, () => hex('a1 6161')), padding]);
    expect(() => decode(maps(65))).toThrow(BadCborError);
    expect(decode(maps(64))).toBeTypeOf('object');
  });

  it('round-trips arbitrary JSON-like values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        // -0 travels as 0 (as in JSON).
        expect(decode(encode(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws anything but BadCborError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        try {
          decode(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(BadCborError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

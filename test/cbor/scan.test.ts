/**
 * The wire scan decides what CBOR reaches a decoder. It must refuse each construct outside the v1
 * subset with its reason, and must not change what any payload inside the subset decodes to:
 * random valid envelopes and random subset items (written with random head and float widths)
 * decode to exactly what cbor-x alone made of them.
 */
import { Decoder } from 'cbor-x';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadCborError, decode, encode, scanWireCbor } from '../../src/cbor/index.js';
import { cborValue } from '../helpers/cbor-values.js';
import { expectSameValue } from '../helpers/same-value.js';
import { have, intent, presence, reply } from '../protocol/fixtures.js';

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
const cat = (...parts: Uint8Array[]) => Buffer.concat(parts);

/** What the codec returned before the scan: cbor-x alone, Maps made plain objects. */
const cborX = new Decoder({ useRecords: false, mapsAsObjects: false });
function unscanned(bytes: Uint8Array): unknown {
  return plain(cborX.decode(bytes));
}
function plain(value: unknown): unknown {
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) {
      if (typeof k !== 'string') throw new Error('non-text key');
      Object.defineProperty(out, k, { value: plain(v), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

/** The reason the scan gives, or 'ok'. */
function scanReason(bytes: Uint8Array): string {
  try {
    scanWireCbor(bytes);
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(BadCborError);
    return (err as BadCborError).reason;
  }
}

// ---- a writer of items inside the v1 subset, with random head and float widths ------------------

const head = (major: number, n: number) =>
  fc.integer({ min: 0, max: 4 }).map((extra) => {
    const m = major << 5;
    const minimal = n < 24 ? 0 : n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x100000000 ? 3 : 4;
    const width = Math.min(4, minimal + (extra >= 3 ? extra - 2 : 0));
    const b = Buffer.alloc([1, 2, 3, 5, 9][width]!);
    b[0] = m | [n, 24, 25, 26, 27][width]!;
    if (width === 1) b[1] = n;
    if (width === 2) b.writeUInt16BE(n, 1);
    if (width === 3) b.writeUInt32BE(n, 1);
    if (width === 4) b.writeBigUInt64BE(BigInt(n), 1);
    return b;
  });

const text = (s: string) => {
  const bytes = Buffer.from(s, 'utf8');
  return head(3, bytes.length).map((h) => cat(h, bytes));
};

const float = fc.oneof(
  fc.double().map((d) => {
    const b = Buffer.alloc(9);
    b[0] = 0xfb;
    b.writeDoubleBE(d, 1);
    return b;
  }),
  fc.float().map((f) => {
    const b = Buffer.alloc(5);
    b[0] = 0xfa;
    b.writeFloatBE(f, 1);
    return b;
  }),
  fc.uint8Array({ minLength: 2, maxLength: 2 }).map((b) => cat(Buffer.from([0xf9]), b)),
);

const subsetScalar = fc.oneof(
  fc.maxSafeNat().chain((n) => head(0, n)),
  fc.maxSafeNat().chain((n) => head(1, n)),
  fc.uint8Array({ maxLength: 40 }).chain((b) => head(2, b.length).map((h) => cat(h, b))),
  fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 8 })).chain(text),
  fc.constantFrom(0xf4, 0xf5, 0xf6, 0xf7).map((b) => Buffer.from([b])),
  float,
);

const { subsetItem } = fc.letrec<{ subsetItem: Buffer; entry: Buffer }>((tie) => ({
  subsetItem: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    subsetScalar,
    fc.array(tie('subsetItem'), { maxLength: 5 }).chain((xs) => head(4, xs.length).map((h) => cat(h, ...xs))),
    fc.array(tie('entry'), { maxLength: 6 }).chain((xs) => head(5, xs.length).map((h) => cat(h, ...xs))),
  ),
  entry: fc
    .tuple(
      fc.oneof(fc.constantFrom('v', 'id', '__proto__', '', 'constructor'), fc.string({ maxLength: 20 })).chain(text),
      tie('subsetItem'),
    )
    .map(([k, v]) => cat(k, v)),
}));

/** Random valid envelopes: every family, with random extra fields, bodies and data. */
const envelope = fc
  .tuple(
    fc.constantFrom(presence(), intent(), reply(), have(), reply('n', { r: 'no', reason: 'cpu_busy', retry: 250 })),
    fc.dictionary(fc.string({ maxLength: 12 }), cborValue, { maxKeys: 4 }),
    cborValue,
  )
  .map(([base, extra, payload]) => ({ ...extra, ...base, ...('r' in base ? { data: payload } : { body: payload }) }));

describe('wire scan', () => {
  it('refuses each construct outside the v1 subset with its reason', () => {
    const cases: [string, string][] = [
      ['c2 41 01', 'cbor_tag'], // bignum
      ['a1 6176 c3 41 01', 'cbor_tag'], // negative bignum in a map
      ['d8 1c 80', 'cbor_tag'], // shareable (28)
      ['82 d8 1c 80 d8 1d 00', 'cbor_tag'], // shared reference (29)
      ['d9 d9f7 a0', 'cbor_tag'], // self-described CBOR (55799)
      ['9f ff', 'cbor_indefinite'],
      ['bf ff', 'cbor_indefinite'],
      ['5f 41 00 ff', 'cbor_indefinite'],
      ['a1 7f ff 01', 'cbor_indefinite'], // an indefinite text key
      ['1f', 'cbor_indefinite'],
      ['5a ffffffff', 'cbor_length'], // a 4 GiB byte string, nothing behind it
      ['5b 0000000100000000 00', 'cbor_length'], // 2^32 bytes in a 64-bit head
      ['5b ffffffffffffffff', 'cbor_length'],
      ['9a 00100000 00', 'cbor_length'], // 2^20 items, one byte left
      ['ba 00000002 6176 01', 'cbor_length'], // two entries, three bytes left
      ['19 01', 'cbor_length'], // a truncated head
      ['fb 0000', 'cbor_length'], // a truncated float
      ['82 01', 'cbor_length'], // an item missing
      ['1b 0020000000000000', 'cbor_int_range'], // 2^53
      ['3b 0020000000000000', 'cbor_int_range'], // −2^53 − 1
      ['01 02', 'cbor_trailing'],
      ['a0 00', 'cbor_trailing'],
      ['ff', 'bad_cbor'], // a break outside an indefinite item
      ['f0', 'bad_cbor'], // simple value 16
      ['f8 ff', 'bad_cbor'], // a one-byte simple value
      ['1c', 'bad_cbor'], // reserved additional information
      ['a1 01 02', 'bad_cbor'], // a key that is not text
      ['', 'bad_cbor'],
    ];
    for (const [h, reason] of cases) expect(scanReason(hex(h)), h).toBe(reason);
    for (const [h, reason] of cases) {
      expect(() => decode(hex(h)), h).toThrow(expect.objectContaining({ code: 'DAMESO_BAD_CBOR', reason }));
    }
  });

  it('accepts the edges of the subset', () => {
    for (const h of [
      '1b 001fffffffffffff', // 2^53 − 1
      '3b 001fffffffffffff', // −2^53
      'f7', // undefined (a field set to undefined)
      'f9 3c00',
      'fa 47c35000',
      'a1 6176 5a 00000001 07', // a byte string with a 32-bit length head
    ]) {
      expect(scanReason(hex(h)), h).toBe('ok');
    }
  });

  it('bounds maps, arrays and byte strings by the payload size: 16, plus one per 16 bytes', () => {
    // [[[] × (objects − 3)], h'00…'] padded to `bytes` in all.
    const payload = (bytes: number, objects: number) => {
      const n = objects - 3;
      const list = cat(Buffer.from([0x99, n >> 8, n & 0xff]), Buffer.alloc(n, 0x80));
      const pad = bytes - 1 - list.length - 5;
      const padding = Buffer.alloc(5 + pad);
      padding[0] = 0x5a;
      padding.writeUInt32BE(pad, 1);
      return cat(Buffer.from([0x82]), list, padding);
    };
    for (const bytes of [1600, 160_000]) {
      const limit = 16 + bytes / 16;
      expect(payload(bytes, limit).length).toBe(bytes);
      expect(scanReason(payload(bytes, limit))).toBe('ok');
      expect(scanReason(payload(bytes, limit + 1))).toBe('cbor_objects');
    }
    expect(scanReason(Buffer.alloc(1000, 0x80))).toBe('cbor_trailing'); // one empty array, then trailing
    expect(scanReason(cat(hex('99 03e8'), Buffer.alloc(1000, 0x80)))).toBe('cbor_objects');
    expect(scanReason(cat(hex('99 03e8'), Buffer.alloc(1000, 0xa0)))).toBe('cbor_objects');
    expect(scanReason(cat(hex('99 01f4'), Buffer.alloc(1000, 0x40).fill(0x41, 0, 0)))).toBe('cbor_objects');
  });

  it('bounds distinct map keys by the payload size: 64, plus one per 64 bytes; repeats are free', () => {
    // One map of `keys` distinct 8-character keys, padded with a byte string to `bytes` in all.
    const payload = (bytes: number, keys: number, repeat = 1) => {
      const entries = Array.from({ length: keys * repeat }, (_, i) =>
        cat(hex('68'), Buffer.from(`k${String(i % keys).padStart(7, '0')}`), hex('f6')),
      );
      const body = cat(Buffer.from([0xb9, (keys * repeat + 1) >> 8, (keys * repeat + 1) & 0xff]), ...entries);
      const pad = bytes - body.length - 2 - 5;
      const padding = Buffer.alloc(5 + pad);
      padding[0] = 0x5a;
      padding.writeUInt32BE(pad, 1);
      return cat(body, hex('61 70'), padding);
    };
    for (const bytes of [6400, 64_000]) {
      const limit = 64 + bytes / 64; // the padding's key "p" is one of them
      expect(payload(bytes, limit - 1).length).toBe(bytes);
      expect(scanReason(payload(bytes, limit - 1))).toBe('ok');
      expect(decode(payload(bytes, limit - 1))).toBeTypeOf('object');
      expect(scanReason(payload(bytes, limit))).toBe('cbor_keys');
      expect(() => decode(payload(bytes, limit))).toThrow(expect.objectContaining({ reason: 'cbor_keys' }));
    }
    // The same keys again and again count once.
    expect(scanReason(payload(64_000, 100, 40))).toBe('ok');
    expect(decode(payload(64_000, 100, 40))).toBeTypeOf('object');
  });

  it('allows exactly MAX_CBOR_DEPTH levels below the root', () => {
    // A 1000-byte string innermost keeps the arrays within the bound on objects per byte.
    const padding = cat(hex('59 03e8'), Buffer.alloc(1000, 7));
    const nested = (levels: number, inner = padding) => cat(Buffer.alloc(levels, 0x81), inner);
    expect(scanReason(nested(64))).toBe('ok');
    expect(scanReason(nested(65))).toBe('cbor_depth');
    expect(scanReason(cat(Buffer.alloc(63, 0x81), hex('82 80'), padding))).toBe('ok'); // empty array at 64
    expect(scanReason(cat(Buffer.alloc(64, 0x81), hex('82 80'), padding))).toBe('cbor_depth');
    expect(decode(nested(64))).toBeInstanceOf(Array);
  });

  it('for random valid envelopes, the strict path decodes to what cbor-x alone made of them', () => {
    fc.assert(
      fc.property(envelope, (env) => {
        const bytes = encode(env);
        const reason = scanReason(bytes);
        const before = unscanned(bytes);
        // Random bodies may hold more objects or distinct keys than the bounds: refused whole.
        if (reason === 'cbor_objects' || reason === 'cbor_keys') {
          expect(() => decode(bytes)).toThrow(expect.objectContaining({ reason }));
          return;
        }
        expect(reason).toBe('ok');
        expectSameValue(decode(bytes), before);
      }),
      { numRuns: 1000 },
    );
  });

  it('for random items of the subset in any head or float width, decodes to what cbor-x alone made of them', () => {
    fc.assert(
      fc.property(subsetItem, (bytes) => {
        const reason = scanReason(bytes);
        if (reason === 'cbor_objects' || reason === 'cbor_keys') {
          expect(() => decode(bytes)).toThrow(expect.objectContaining({ reason }));
          return;
        }
        expect(reason).toBe('ok');
        let before: unknown;
        try {
          before = unscanned(bytes);
        } catch {
          expect(() => decode(bytes)).toThrow(BadCborError);
          return;
        }
        expectSameValue(decode(bytes), before);
      }),
      { numRuns: 3000 },
    );
  });
});

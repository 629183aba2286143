import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode, encodeGeneral } from '../../src/protocol/codec.js';
import { encodeFlat } from '../../src/protocol/flat-encoder.js';
import { intent, reply } from './fixtures.js';

/** The fast path, when it covers `v`, writes exactly cbor-x's bytes; `encode` always does. */
const same = (v: unknown) => {
  const want = encodeGeneral(v).toString('hex');
  expect(encode(v).toString('hex')).toBe(want);
  const flat = encodeFlat(v);
  if (flat !== undefined) expect(flat.toString('hex')).toBe(want);
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
    Number.NEGATIVE_INFINITY,
  ),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 300 }),
  fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
);

const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('v'), { maxLength: 30 }),
    fc.dictionary(fc.string({ maxLength: 40 }), tie('v'), { maxKeys: 30 }),
  ),
})).v;

describe('wire encoder fast path', () => {
  it('writes cbor-x’s bytes for random values', () => {
    fc.assert(
      fc.property(value, (v) => same(v)),
      { numRuns: 2000 },
    );
  });

  it('writes cbor-x’s bytes for envelopes, lone surrogates, long text and large byte strings', () => {
    same(intent('node-1', { to: ['bt-1', 'bt-2'], body: { event: 'gps', from_t: 1, to_t: 2.5 } }));
    const lim = { economic: 1, cpu: 0.93, memory: 0.5, w_tracking: 1, objective: 0.25, topology: 1 };
    const big = reply('bt-1', { data: new Uint8Array(70_000).fill(7), lim });
    same(big);
    expect(encodeFlat(big)).toBeDefined();
    expect(encodeFlat(intent('node-1'))).toBeDefined();
    same({ s: 'a\ud800b', long: `${'x'.repeat(70)}\ud800${'é'.repeat(300)}`, e: '€𝄞' });
    same({ big: 'y'.repeat(70_000), n: Array.from({ length: 300 }, (_, i) => i) });
    same(Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i])));
    const env = reply('bt-1', { data: Buffer.alloc(65_538, 3) });
    expect(decode(encode(env))).toEqual({ ...env, data: Buffer.alloc(65_538, 3) });
  });

  it('leaves what it does not cover to cbor-x (same bytes either way)', () => {
    for (const v of [new Date(5), new Map([['a', 1]]), { when: new Date(5) }, [new Uint16Array([1, 2])], 10n]) {
      expect(encodeFlat(v)).toBeUndefined();
      same(v);
    }
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(encodeFlat(deep)).toBeUndefined();
    same(deep);
  });
});

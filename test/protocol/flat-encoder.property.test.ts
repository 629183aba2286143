import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode, encodeGeneral } from '../../src/protocol/codec.js';
import { encodeFlat } from '../../src/protocol/flat-encoder.js';
import { cborScalar, cborValue } from '../helpers/cbor-values.js';
import { intent, reply } from './fixtures.js';

/** The fast path, when it covers `v`, writes exactly cbor-x's bytes; `encode` always does. */
const same = (v: unknown) => {
  const want = encodeGeneral(v).toString('hex');
  expect(encode(v).toString('hex')).toBe(want);
  const flat = encodeFlat(v);
  if (flat !== undefined) expect(flat.toString('hex')).toBe(want);
};

// Buffers too: the wire encoder writes them as plain byte strings.
const value = fc.oneof(
  cborValue,
  fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
);

describe('wire encoder fast path', () => {
  it('writes cbor-x’s bytes for random values', () => {
    fc.assert(
      fc.property(value, (v) => same(v)),
      { numRuns: 2000 },
    );
  });

  it('encodes a frozen object of primitives once, then the same bytes from its copy', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 12 }), cborScalar, { maxKeys: 8 }), (d) => {
        if (Object.hasOwn(d, '__proto__')) return;
        const lim = Object.freeze({ ...d });
        same(lim);
        same({ v: 1, r: 'yes', lim, data: Buffer.alloc(2000, 1) });
        same({ v: 1, r: 'no', lim, again: lim });
      }),
      { numRuns: 500 },
    );
    const inner = [1];
    const outer = Object.freeze({ inner });
    same(outer);
    inner.push(2); // never cached: it holds an array
    same(outer);
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

/**
 * The wire encoder's fast path: byte for byte what the codec's cbor-x encoder writes
 * (`useRecords: false, tagUint8Array: false, variableMapSize: true`), for the values envelopes are
 * made of. One pass into a scratch buffer, then one copy into a Buffer of the exact size; a large
 * byte string (a chunk in a YES) is not copied into the scratch at all but straight into the result.
 * Through cbor-x a YES carrying a 64 KiB chunk is copied three times (the reused buffer grown, then
 * copied out); this way once (figures: docs/benchmarks.md). Small envelopes cost the same either way.
 *
 * Covered: plain objects (constructor Object; shortest map header; keys in Object.keys order),
 * arrays (constructor Array), text, numbers (integers in [-2^32, 2^32) as CBOR ints, -0 as 0,
 * everything else float64, as cbor-x), booleans, null, undefined, Uint8Array and Buffer (a plain
 * byte string, no tag); text as src/cbor-text.ts writes it. Anything else (Date, Map, bigint, typed arrays, class instances,
 * nesting past 32) makes `encodeFlat` return undefined and the codec uses cbor-x, so the bytes never
 * depend on which path ran. `test/protocol/flat-encoder.property.test.ts` holds it to cbor-x.
 */

import { FrozenEncodings, writeHead, writeNumber, writeText } from '../cbor-write.js';

/** Nesting beyond this takes the general path (envelopes are shallow). */
const MAX_DEPTH = 32;
/** Byte strings at least this long are copied once, into the result, not into the scratch. */
const DEFER_BYTES = 1024;

let scratch: Buffer = Buffer.allocUnsafe(16 * 1024);
let pos = 0;
/** Large byte strings to splice in at assembly: the scratch offset they follow, and the bytes. */
const deferredAt: number[] = [];
const deferredBytes: Uint8Array[] = [];
let deferredTotal = 0;

/** Thrown internally to take the general path; never escapes this module. */
const BAIL = Symbol('bail');

function room(n: number): void {
  if (pos + n <= scratch.length) return;
  const bigger = Buffer.allocUnsafe(Math.max(scratch.length * 2, pos + n));
  scratch.copy(bigger, 0, 0, pos);
  scratch = bigger;
}

/** Major-type header with cbor-x's (shortest) length forms. */
function head(major: number, n: number): void {
  room(5);
  pos = writeHead(scratch, pos, major, n);
}

function text(s: string): void {
  room(5 + s.length * 3);
  pos = writeText(scratch, pos, s);
}

function num(v: number): void {
  room(9);
  pos = writeNumber(scratch, pos, v);
}

function bytes(b: Uint8Array): void {
  head(0x40, b.length);
  if (b.length >= DEFER_BYTES) {
    deferredAt.push(pos);
    deferredBytes.push(b);
    deferredTotal += b.length;
    return;
  }
  room(b.length);
  scratch.set(b, pos);
  pos += b.length;
}

function value(v: unknown, depth: number): void {
  switch (typeof v) {
    case 'string':
      text(v);
      return;
    case 'number':
      num(v);
      return;
    case 'boolean':
      room(1);
      scratch[pos++] = v ? 0xf5 : 0xf4;
      return;
    case 'undefined':
      room(1);
      scratch[pos++] = 0xf7;
      return;
    case 'object': {
      if (v === null) {
        room(1);
        scratch[pos++] = 0xf6;
        return;
      }
      if (depth >= MAX_DEPTH) throw BAIL;
      const c = v.constructor;
      if (c === Object) {
        object(v as Record<string, unknown>, depth);
        return;
      }
      if (c === Array) {
        const a = v as unknown[];
        head(0x80, a.length);
        for (let i = 0; i < a.length; i++) value(a[i], depth + 1);
        return;
      }
      if ((c === Uint8Array || c === Buffer) && v instanceof Uint8Array) {
        bytes(v);
        return;
      }
      throw BAIL;
    }
    default:
      throw BAIL;
  }
}

/** `lim` and other frozen records of primitives: encoded once (see `FrozenEncodings`). */
const frozen = new FrozenEncodings();

function object(o: Record<string, unknown>, depth: number): void {
  const known = frozen.get(o);
  if (known !== undefined) {
    room(known.length);
    known.copy(scratch, pos);
    pos += known.length;
    return;
  }
  const start = pos;
  const keys = Object.keys(o);
  head(0xa0, keys.length);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    text(k);
    value(o[k], depth + 1);
  }
  // Deferred byte strings never reach here with a frozen object kept: it must hold primitives only.
  frozen.keep(o, scratch.subarray(start, pos));
}

/** The encoding of `v` in a fresh Buffer of its exact size, or undefined when not covered. */
export function encodeFlat(v: unknown): Buffer | undefined {
  pos = 0;
  deferredTotal = 0;
  try {
    value(v, 0);
    return assemble();
  } catch (err) {
    if (err === BAIL) return undefined;
    throw err;
  } finally {
    // Never keep a caller's bytes past the call.
    deferredAt.length = 0;
    deferredBytes.length = 0;
  }
}

/** The scratch bytes with the deferred byte strings spliced in, in one exact-size Buffer. */
function assemble(): Buffer {
  const out = Buffer.allocUnsafe(pos + deferredTotal);
  let from = 0;
  let to = 0;
  for (let i = 0; i < deferredAt.length; i++) {
    const at = deferredAt[i] as number;
    const b = deferredBytes[i] as Uint8Array;
    scratch.copy(out, to, from, at);
    to += at - from;
    from = at;
    out.set(b, to);
    to += b.length;
  }
  scratch.copy(out, to, from, pos);
  return out;
}

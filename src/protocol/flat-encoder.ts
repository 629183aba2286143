/**
 * The wire encoder's fast path: byte for byte what the codec's cbor-x encoder writes
 * (`useRecords: false, tagUint8Array: false, variableMapSize: true`), for the values envelopes are
 * made of. One pass into a scratch buffer, then one copy into a Buffer of the exact size; a large
 * byte string (a chunk in a YES) is not copied into the scratch at all but straight into the result.
 * Through cbor-x a YES carrying a 64 KiB chunk was copied three times (the reused buffer grown, then
 * copied out): 21 µs to encode here, 10 µs this way; small envelopes cost about what they did.
 *
 * Covered: plain objects (constructor Object; shortest map header; keys in Object.keys order),
 * arrays (constructor Array), text, numbers (integers in [-2^32, 2^32) as CBOR ints, -0 as 0,
 * everything else float64, as cbor-x), booleans, null, undefined, Uint8Array and Buffer (a plain
 * byte string, no tag). Text of under 64 UTF-16 units goes through cbor-x's own loop (a lone
 * surrogate becomes its 3-byte WTF-8 form), longer text through Buffer's UTF-8 writer as in cbor-x
 * (U+FFFD for a lone surrogate). Anything else (Date, Map, bigint, typed arrays, class instances,
 * nesting past 32) makes `encodeFlat` return undefined and the codec uses cbor-x, so the bytes never
 * depend on which path ran. `test/protocol/flat-encoder.property.test.ts` holds it to cbor-x.
 */

/** Nesting beyond this takes the general path (envelopes are shallow). */
const MAX_DEPTH = 32;
/** cbor-x writes text shorter than this with its own loop, longer text with Buffer's utf8Write. */
const SHORT_TEXT = 0x40;
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

function headBytes(n: number): number {
  return n < 0x18 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

/** Major-type header, shortest form. */
function head(major: number, n: number): void {
  room(5);
  const b = scratch;
  if (n < 0x18) b[pos++] = major | n;
  else if (n < 0x100) {
    b[pos++] = major | 0x18;
    b[pos++] = n;
  } else if (n < 0x10000) {
    b[pos++] = major | 0x19;
    b[pos++] = n >> 8;
    b[pos++] = n & 0xff;
  } else {
    b[pos++] = major | 0x1a;
    b.writeUInt32BE(n, pos);
    pos += 4;
  }
}

function text(s: string): void {
  const n = s.length;
  if (n >= SHORT_TEXT) {
    // Written once after room for the longest header, then moved next to the real one.
    room(5 + n * 3);
    const len = scratch.write(s, pos + 5, 'utf8');
    const at = pos + headBytes(len);
    if (at !== pos + 5) scratch.copyWithin(at, pos + 5, pos + 5 + len);
    head(0x60, len);
    pos = at + len;
    return;
  }
  // At most 3 bytes per unit (< 192 bytes): a 1- or 2-byte header. Written after a guessed header,
  // moved when the guess was wrong, as cbor-x does.
  room(2 + n * 3);
  const b = scratch;
  const start = pos + (n < 0x18 ? 1 : 2);
  let p = start;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) b[p++] = c;
    else if (c < 0x800) {
      b[p++] = (c >> 6) | 0xc0;
      b[p++] = (c & 0x3f) | 0x80;
    } else if ((c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c & 0x03ff) << 10) + (s.charCodeAt(i + 1) & 0x03ff);
      i++;
      b[p++] = (c >> 18) | 0xf0;
      b[p++] = ((c >> 12) & 0x3f) | 0x80;
      b[p++] = ((c >> 6) & 0x3f) | 0x80;
      b[p++] = (c & 0x3f) | 0x80;
    } else {
      b[p++] = (c >> 12) | 0xe0;
      b[p++] = ((c >> 6) & 0x3f) | 0x80;
      b[p++] = (c & 0x3f) | 0x80;
    }
  }
  const len = p - start;
  const at = pos + (len < 0x18 ? 1 : 2);
  if (at !== start) b.copyWithin(at, start, p);
  if (len < 0x18) b[pos] = 0x60 | len;
  else {
    b[pos] = 0x78;
    b[pos + 1] = len;
  }
  pos = at + len;
}

function num(v: number): void {
  if (v >>> 0 === v) {
    head(0x00, v >>> 0);
    return;
  }
  room(9);
  if (v >> 0 === v) {
    if (v >= -0x18) scratch[pos++] = 0x1f - v;
    else head(0x20, ~v);
  } else if (v < 0 && v >= -0x100000000 && Math.floor(v) === v) {
    scratch[pos++] = 0x3a;
    scratch.writeUInt32BE(-1 - v, pos);
    pos += 4;
  } else {
    scratch[pos++] = 0xfb;
    scratch.writeDoubleBE(v, pos);
    pos += 8;
  }
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
        const keys = Object.keys(v);
        head(0xa0, keys.length);
        for (let i = 0; i < keys.length; i++) {
          const k = keys[i] as string;
          text(k);
          value((v as Record<string, unknown>)[k], depth + 1);
        }
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

/**
 * The series' CBOR encoder: a fast path for the values entries are made of, byte for byte what
 * cbor-x 1.6 (`new Encoder({ useRecords: false })`) writes, and cbor-x itself for anything else.
 *
 * Covered: plain objects (constructor Object: map with a 2-byte count, `0xb9`, as cbor-x always
 * writes it), arrays, text (shortest header for its UTF-8 length), numbers (integers in
 * [-2^32, 2^32) as CBOR ints, everything else float64, `-0` as 0, as cbor-x), booleans, null,
 * undefined, and `Uint8Array` (tag 64 + byte string, RFC 8746, as cbor-x writes it in Node). Any
 * other value (Buffer, Date, Map, bigint, class instances, own `hasOwnProperty` keys, 65536+ keys)
 * makes the whole entry go through cbor-x, so the bytes never depend on which path ran.
 * `test/series/cbor.property.test.ts` checks the equality on random values.
 *
 * Why: cbor-x's general encoder was a quarter of the CPU of an append (per-call setup, map
 * back-patching, extension lookups).
 */
import { Encoder } from 'cbor-x';
import { FrozenEncodings, writeHead, writeNumber, writeText } from '../cbor-write.js';

const general = new Encoder({ useRecords: false });

/** Scratch buffer; grows on demand (an entry is bounded by the series' maxEntryBytes). */
let scratch: Buffer = Buffer.allocUnsafe(64 * 1024);

/**
 * Where the encoder writes: the scratch buffer (which grows), or a caller's buffer lent through
 * `encodeEntryInto` (which does not: running out of it aborts with NO_ROOM).
 */
let buf: Buffer = scratch;
let pos = 0;
let lent = false;

/** Thrown internally to take the general path; never escapes this module. */
const BAIL = Symbol('bail');
/** Thrown internally when a lent buffer is full; `encodeEntryInto` returns -1. */
const NO_ROOM = Symbol('no-room');

function room(n: number): void {
  if (pos + n <= buf.length) return;
  if (lent) throw NO_ROOM;
  const bigger = Buffer.allocUnsafe(Math.max(buf.length * 2, pos + n));
  buf.copy(bigger, 0, 0, pos);
  scratch = buf = bigger;
}

/** Major-type header with cbor-x's (shortest) length forms. */
function head(major: number, n: number): void {
  room(5);
  pos = writeHead(buf, pos, major, n);
}

function text(s: string): void {
  room(5 + s.length * 3);
  pos = writeText(buf, pos, s);
}

function num(v: number): void {
  room(9);
  pos = writeNumber(buf, pos, v);
}

function value(v: unknown): void {
  switch (typeof v) {
    case 'string':
      text(v);
      return;
    case 'number':
      num(v);
      return;
    case 'boolean':
      room(1);
      buf[pos++] = v ? 0xf5 : 0xf4;
      return;
    case 'undefined':
      room(1);
      buf[pos++] = 0xf7;
      return;
    case 'object': {
      if (v === null) {
        room(1);
        buf[pos++] = 0xf6;
        return;
      }
      const c = v.constructor;
      if (c === Object) {
        object(v as Record<string, unknown>);
        return;
      }
      if (c === Array) {
        const a = v as unknown[];
        head(0x80, a.length);
        for (let i = 0; i < a.length; i++) value(a[i]);
        return;
      }
      if (c === Uint8Array) {
        const b = v as Uint8Array;
        room(7 + b.length);
        buf[pos++] = 0xd8;
        buf[pos++] = 0x40;
        head(0x40, b.length);
        buf.set(b, pos);
        pos += b.length;
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

function object(o: Record<string, unknown>): void {
  const known = frozen.get(o);
  if (known !== undefined) {
    room(known.length);
    known.copy(buf, pos);
    pos += known.length;
    return;
  }
  const start = pos;
  fields(o);
  frozen.keep(o, buf.subarray(start, pos));
}

function fields(o: Record<string, unknown>): void {
  if (Object.hasOwn(o, 'hasOwnProperty')) throw BAIL;
  room(3);
  buf[pos++] = 0xb9;
  const at = pos;
  pos += 2;
  // for-in with the own-key check, as cbor-x writes it: V8 walks the enum cache and drops the check
  // for own keys (no key array allocated per entry, unlike Object.keys).
  let size = 0;
  for (const k in o) {
    if (!Object.hasOwn(o, k)) continue;
    text(k);
    value(o[k]);
    size++;
  }
  if (size >= 0x10000) throw BAIL;
  buf[at] = size >> 8;
  buf[at + 1] = size & 0xff;
}

/**
 * Encode `v` as cbor-x would. The result is a view into a scratch buffer, valid until the next
 * call: copy it (the committer frames it into its pending buffer at once) before encoding again.
 */
export function encodeEntryBytes(v: unknown): Uint8Array {
  // The target is always the scratch buffer here: encodeEntryInto restores it before returning.
  pos = 0;
  try {
    value(v);
  } catch (err) {
    if (err !== BAIL) throw err;
    return general.encode(v);
  }
  return buf.subarray(0, pos);
}

/**
 * Encode `v` as cbor-x would, straight into `target` from `at` (the series frames records in its
 * commit buffer this way: no scratch copy, no view per entry). Returns the offset after the
 * encoding, or -1 when `target` has no room for it (nothing outside `target[at..]` was written):
 * grow it and call again.
 */
export function encodeEntryInto(target: Buffer, at: number, v: unknown): number {
  buf = target;
  lent = true;
  pos = at;
  try {
    value(v);
    return pos;
  } catch (err) {
    if (err === NO_ROOM) return -1;
    if (err !== BAIL) throw err;
  } finally {
    // Never keep a caller's buffer as the encoder's target past this call.
    buf = scratch;
    lent = false;
  }
  const bytes = general.encode(v);
  if (at + bytes.length > target.length) return -1;
  target.set(bytes, at);
  return at + bytes.length;
}

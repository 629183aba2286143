/**
 * A strict CBOR reader for the shapes dameso envelopes actually have: definite-length maps with
 * short ASCII text keys, ASCII text, small integers, floats, byte strings, booleans, null and
 * definite arrays. It accepts a strict subset of what codec.ts's cbor-x path accepts and returns
 * the very same value for it (a property test holds it to that); on anything else — a tag, an
 * indefinite length, a non-ASCII string, a 64-bit integer, a `__proto__` key, truncation, trailing
 * bytes, nesting past the bound, more maps, arrays, byte strings or distinct keys than the wire allows — it returns UNUSUAL and the caller takes the general path (the
 * wire scan, then cbor-x), which keeps or refuses the payload. So this file never decides what is
 * refused, and everything it accepts is inside the scan's subset.
 *
 * Why: cbor-x pays per call for its general machinery (state reset, a DataView attached to the
 * input, a native string extractor once a payload passes 140 bytes, a keyMap hook per key); on a
 * 100–250-byte envelope that was most of the broker's and each receiver's decode time.
 */

import { CBOR_BYTES_PER_OBJECT, CBOR_OBJECT_ALLOWANCE, MAX_CBOR_DEPTH } from './constants.js';
import { addKey, spendKey, startKeyCount } from './wire-scan.js';

/** Returned for anything outside the subset: decode with the general path instead. */
export const UNUSUAL: unique symbol = Symbol('unusual CBOR');

// Deepest nesting read here: the wire bound (deeper goes to the general path, whose scan refuses it).
const MAX_DEPTH = MAX_CBOR_DEPTH;
// Strings longer than this are read with one native latin1 call once known to be ASCII.
const SHORT_STRING = 8;

// The reader's state: module-level, so no closure or state object per call. `decodeFlat` is not
// re-entrant and never calls out, so one input at a time is all there is.
let src: Uint8Array = new Uint8Array(0);
let pos = 0;
let end = 0;
// Maps, arrays and byte strings still allowed in this payload: past the wire bound, the general path refuses it.
let objectsLeft = 0;
// Marks the key cache slots whose key this payload has counted (wire-scan.ts counts distinct keys).
let payloadStamp = 0;

class Unusual {}
// Thrown inside, caught once in decodeFlat: cheaper than checking a sentinel after every read.
const STOP = new Unusual();

/** Decodes `bytes` (one item, nothing after it) or returns UNUSUAL. Never throws. */
export function decodeFlat(bytes: Uint8Array): unknown {
  src = bytes;
  pos = 0;
  end = bytes.length;
  objectsLeft = CBOR_OBJECT_ALLOWANCE + Math.floor(end / CBOR_BYTES_PER_OBJECT);
  startKeyCount(end);
  if (++payloadStamp > 0xffffffff) {
    keyCache.resetStamps();
    payloadStamp = 1;
  }
  try {
    const value = readItem(0);
    return pos === end ? value : UNUSUAL;
  } catch (err) {
    if (err === STOP) return UNUSUAL;
    throw err;
  } finally {
    src = EMPTY;
  }
}

const EMPTY = new Uint8Array(0);

/** The argument of a head whose additional info is `info` (< 0x1c): lengths and integers. */
function readArgument(info: number): number {
  if (info < 24) return info;
  if (info === 24) {
    if (pos >= end) throw STOP;
    return src[pos++]!;
  }
  if (info === 25) {
    if (pos + 2 > end) throw STOP;
    const v = (src[pos]! << 8) | src[pos + 1]!;
    pos += 2;
    return v;
  }
  if (info === 26) {
    if (pos + 4 > end) throw STOP;
    const v = src[pos]! * 0x1000000 + ((src[pos + 1]! << 16) | (src[pos + 2]! << 8) | src[pos + 3]!);
    pos += 4;
    return v;
  }
  // 27 (64-bit: cbor-x may return a BigInt), 28–30 (reserved), 31 (indefinite).
  throw STOP;
}

function readItem(depth: number): unknown {
  if (pos >= end) throw STOP;
  const head = src[pos++]!;
  const major = head >> 5;
  const info = head & 0x1f;
  switch (major) {
    case 0:
      return readArgument(info);
    case 1:
      return -1 - readArgument(info);
    case 2: {
      const length = readArgument(info);
      if (length > end - pos || --objectsLeft < 0) throw STOP;
      // The same view cbor-x returns (a Buffer when the input is one), not a copy.
      const bytes = src.subarray(pos, pos + length);
      pos += length;
      return bytes;
    }
    case 3:
      return valueCache.read(readArgument(info), false);
    case 4: {
      const length = readArgument(info);
      if (length > end - pos || depth >= MAX_DEPTH || --objectsLeft < 0) throw STOP;
      const array = new Array(length);
      for (let i = 0; i < length; i++) array[i] = readItem(depth + 1);
      return array;
    }
    case 5:
      return readMap(readArgument(info), depth);
    case 7:
      return readSimple(info);
    default:
      // 6: tags (dates, bignums, cbor-x extensions…) are the general path's business.
      throw STOP;
  }
}

function readMap(size: number, depth: number): Record<string, unknown> {
  // Each entry takes at least two bytes; deeper than the bound is refused by the general path.
  if (size > (end - pos) / 2 || depth >= MAX_DEPTH || --objectsLeft < 0) throw STOP;
  const object: Record<string, unknown> = {};
  for (let i = 0; i < size; i++) {
    if (pos >= end) throw STOP;
    const head = src[pos++]!;
    if (head >> 5 !== 3) throw STOP; // a key that is not text: the general path refuses it
    const key = keyCache.read(readArgument(head & 0x1f), true);
    if (key === '__proto__') throw STOP; // kept as data by the general path, never assigned here
    object[key] = readItem(depth + 1);
  }
  return object;
}

function readSimple(info: number): unknown {
  switch (info) {
    case 20:
      return false;
    case 21:
      return true;
    case 22:
      return null;
    case 23:
      return undefined;
    case 25: {
      if (pos + 2 > end) throw STOP;
      const half = (src[pos]! << 8) | src[pos + 1]!;
      pos += 2;
      return float16(half);
    }
    case 26: {
      if (pos + 4 > end) throw STOP;
      fillScratch(4);
      return scratch32[0]!;
    }
    case 27: {
      if (pos + 8 > end) throw STOP;
      fillScratch(8);
      return scratch64[0]!;
    }
    default:
      // Other simple values and the break code.
      throw STOP;
  }
}

// Floats are big-endian on the wire; bytes are copied reversed into a little-endian scratch (a
// DataView per input would cost more than the whole read).
const scratch = new Uint8Array(8);
const scratch32 = new Float32Array(scratch.buffer, 0, 1);
const scratch64 = new Float64Array(scratch.buffer);
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fillScratch(width: number): void {
  if (LITTLE_ENDIAN_HOST) for (let i = width - 1; i >= 0; i--) scratch[i] = src[pos++]!;
  else for (let i = 0; i < width; i++) scratch[i] = src[pos++]!;
}

/** IEEE 754 binary16 (RFC 8949 Appendix D). */
function float16(half: number): number {
  const exponent = (half >> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  let value: number;
  if (exponent === 0) value = mantissa * 2 ** -24;
  else if (exponent !== 31) value = (mantissa + 1024) * 2 ** (exponent - 25);
  else value = mantissa === 0 ? Number.POSITIVE_INFINITY : Number.NaN;
  return half & 0x8000 ? -value : value;
}

/**
 * Strings that repeat on every message — map keys (`v`, `id`, `from`…) and short values (`yes`, a
 * kind, a node id) — are looked up by their bytes and the string made the first time is returned:
 * no building, and for keys no interning again as a property name. One slot per hash, last wins.
 */
class TextCache {
  private readonly bytes: (Uint8Array | undefined)[];
  private readonly texts: string[];
  /** The payload (payloadStamp) in which each slot's text was last counted as a distinct key. */
  private readonly stamps: Uint32Array;
  private readonly mask: number;

  constructor(
    slots: number,
    private readonly maxLength: number,
    private readonly intern: boolean,
  ) {
    this.bytes = new Array(slots).fill(undefined);
    this.texts = new Array(slots).fill('');
    this.stamps = new Uint32Array(slots);
    this.mask = slots - 1;
  }

  resetStamps(): void {
    this.stamps.fill(0);
  }

  /** Reads a text; `isKey` counts it against keysLeft unless this payload counted it already. */
  read(length: number, isKey: boolean): string {
    if (length === 0 || length > this.maxLength || length > end - pos) {
      if (isKey) countKey(length);
      return readAscii(length);
    }
    const slot = (length * 31 + src[pos]! * 7 + src[pos + length - 1]!) & this.mask;
    const cached = this.bytes[slot];
    if (cached !== undefined && cached.length === length) {
      let i = 0;
      while (i < length && cached[i] === src[pos + i]) i++;
      if (i === length) {
        // A slot not stamped in this payload: its key was not read in it yet (any earlier read
        // would have stamped the slot), so it is counted without hashing.
        if (isKey && this.stamps[slot] !== payloadStamp) {
          this.stamps[slot] = payloadStamp;
          if (!spendKey()) throw STOP;
        }
        pos += length;
        return this.texts[slot]!;
      }
    }
    if (isKey) {
      this.stamps[slot] = payloadStamp;
      countKey(length);
    }
    const start = pos;
    let text = readAscii(length);
    // The form V8 uses for property names, so later hits need no interning.
    if (this.intern) text = Object.keys({ [text]: 0 })[0]!;
    this.bytes[slot] = src.slice(start, pos);
    this.texts[slot] = text;
    return text;
  }
}

/**
 * Counts the key of `length` bytes at `pos` in the scan's set of distinct keys. With the hits
 * counted by slot stamps, a key may be counted twice (evicted, then read again), never less than the
 * scan counts: what this reader accepts, the scan accepts.
 */
function countKey(length: number): void {
  if (length <= end - pos && !addKey(src, pos, length)) throw STOP;
}

const keyCache = new TextCache(256, 32, true);
// Ids of intents (26-character ULIDs) are unique: longer values are not worth a slot.
const valueCache = new TextCache(256, 16, false);

/** Text of `length` bytes, all ASCII (anything else goes to the general path's UTF-8 decoding). */
function readAscii(length: number): string {
  if (length > end - pos) throw STOP;
  const start = pos;
  const stop = pos + length;
  if (length <= SHORT_STRING) {
    let out = '';
    for (let i = start; i < stop; i++) {
      const c = src[i]!;
      if (c > 0x7f) throw STOP;
      out += String.fromCharCode(c);
    }
    pos = stop;
    return out;
  }
  for (let i = start; i < stop; i++) if (src[i]! > 0x7f) throw STOP;
  pos = stop;
  const buf = Buffer.isBuffer(src) ? src : Buffer.from(src.buffer, src.byteOffset, src.byteLength);
  return buf.toString('latin1', start, stop);
}

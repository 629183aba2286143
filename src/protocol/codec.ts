/**
 * The CBOR codec of the wire: standard CBOR maps with text keys (RFC 8949), cbor-x without its
 * records/structures extension, so any CBOR library (Python cbor2, Rust ciborium…) reads and writes
 * dameso messages. Decoding is strict: a payload the hand-written reader (flat-decoder.ts) does not
 * take is scanned (wire-scan.ts) before cbor-x sees it, so only the CBOR subset of v1 reaches cbor-x
 * and decoding costs time linear in the bytes; failures are typed (BadCborError, with a reason),
 * never cbor-x's plain Errors.
 */
import { Decoder, Encoder } from 'cbor-x';
import { MAX_CBOR_DEPTH } from './constants.js';
import { BadCborError } from './errors.js';
import { decodeFlat, UNUSUAL } from './flat-decoder.js';
import { encodeFlat } from './flat-encoder.js';
import { scanWireCbor } from './wire-scan.js';

// useRecords:false — no record extension (tag 0xdfff…); tagUint8Array:false — bytes are a plain
// byte string (major type 2), not tag 64; variableMapSize — shortest map headers (RFC 8949 §4.2.1).
const encoder = new Encoder({ useRecords: false, tagUint8Array: false, variableMapSize: true, mapsAsObjects: true });
// mapsAsObjects:false so that non-text keys can be seen (and refused) instead of coerced to strings.
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false });

/** Signal from the fast decoder: this payload needs the exact (Map) path. */
const SLOW = Symbol('slow');

/**
 * The fast path builds plain objects directly (no Map, no second pass): cbor-x routes every map
 * key through `decodeKey` when a keyMap is set, so a key that is not text — or is `__proto__`,
 * which cbor-x would rename — aborts to the exact path above, which refuses or keeps it. The result
 * is the same value.
 */
class TextKeyDecoder extends Decoder {
  decodeKey(key: unknown): string {
    if (typeof key !== 'string' || key === '__proto__') throw SLOW;
    return key;
  }
}
const fastDecoder = new TextKeyDecoder({ useRecords: false, mapsAsObjects: true, keyMap: {} });

/**
 * Encodes a value (plain objects become CBOR maps with text keys). Returns a fresh Buffer (what
 * mqtt.js `publish` takes).
 */
export function encode(value: unknown): Buffer {
  // Envelopes as dameso builds them: written once, at their exact size (flat-encoder.ts).
  const flat = encodeFlat(value);
  if (flat !== undefined) return flat;
  // cbor-x returns a view into a buffer it reuses; copy so callers may keep it.
  return Buffer.from(encoder.encode(value));
}

/** The general path (cbor-x): the reference `encodeFlat` is tested against. */
export function encodeGeneral(value: unknown): Buffer {
  return Buffer.from(encoder.encode(value));
}

/**
 * Decodes exactly one CBOR item. Maps become plain objects (text keys only); byte strings become
 * Uint8Array (Buffer). Throws BadCborError on anything else.
 */
export function decode(bytes: Uint8Array): unknown {
  if (bytes.length === 0) throw new BadCborError('empty payload');
  // Envelopes as dameso and most CBOR libraries write them: read by hand, no cbor-x call. The
  // reader takes a subset of what the scan accepts (a property test holds it), so what it returns
  // needs no scan.
  const flat = decodeFlat(bytes);
  return flat === UNUSUAL ? decodeGeneral(bytes) : flat;
}

/**
 * The general path: the scan, then cbor-x. Everything `decodeFlat` leaves, and the reference it is
 * tested against. Throws BadCborError (its `reason` says which rule) on anything outside the v1
 * subset (wire-scan.ts) or not one standard CBOR item with text keys.
 */
export function decodeGeneral(bytes: Uint8Array): unknown {
  // Before cbor-x: tags, indefinite lengths, deep nesting and lying lengths never reach it.
  scanWireCbor(bytes);
  try {
    return fastDecoder.decode(bytes);
  } catch (cause) {
    if (cause !== SLOW) throw new BadCborError(cause instanceof Error ? cause.message : 'undecodable', { cause });
    return decodeExact(bytes);
  }
}

/** Decode through Maps, then to plain objects: refuses non-text keys, keeps `__proto__` as data. */
function decodeExact(bytes: Uint8Array): unknown {
  let raw: unknown;
  try {
    raw = decoder.decode(bytes);
  } catch (cause) {
    throw new BadCborError(cause instanceof Error ? cause.message : 'undecodable', { cause });
  }
  return toPlain(raw, 0);
}

function toPlain(value: unknown, depth: number): unknown {
  // The scan already bounds nesting; this keeps the recursion bounded on its own.
  if (depth > MAX_CBOR_DEPTH) {
    throw new BadCborError(`nested deeper than ${MAX_CBOR_DEPTH} levels`, { reason: 'cbor_depth' });
  }
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of value) {
      if (typeof key !== 'string') throw new BadCborError(`map key ${String(key).slice(0, 32)} is not text`);
      const plain = toPlain(item, depth + 1);
      // A "__proto__" key stays a plain own property (no prototype pollution); plain assignment
      // elsewhere keeps the object on V8's fast path (defineProperty on every key is 4x slower).
      if (key === '__proto__') {
        Object.defineProperty(out, key, { value: plain, enumerable: true, writable: true, configurable: true });
      } else {
        out[key] = plain;
      }
    }
    return out;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = toPlain(value[i], depth + 1);
    return value;
  }
  return value;
}

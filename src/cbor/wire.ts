/**
 * The wire codec: standard CBOR maps with text keys (RFC 8949), cbor-x without its
 * records/structures extension, so any CBOR library (Python cbor2, Rust ciborium…) reads and writes
 * dameso messages (docs/protocol.md §4). Decoding is strict: every payload is scanned (scan.ts)
 * before cbor-x sees it, so only the v1 subset reaches cbor-x and decoding costs time linear in the
 * bytes; failures are typed (BadCborError, with a reason), never cbor-x's plain Errors.
 *
 * Hand-written fast paths for envelopes were measured against cbor-x and saved under 10 % of the
 * work around them (`npm run bench:cbor`, docs/design-notes.md), so cbor-x does all of it.
 */
import { Decoder, Encoder } from 'cbor-x';
import { MAX_CBOR_DEPTH } from './constants.js';
import { BadCborError } from './errors.js';
import { hadProtoKey, scanWireCbor } from './scan.js';

// useRecords:false — no record extension (tag 0xdfff…); tagUint8Array:false — bytes are a plain
// byte string (major type 2), not tag 64; variableMapSize — shortest map headers (RFC 8949 §4.2.1).
const encoder = new Encoder({ useRecords: false, tagUint8Array: false, variableMapSize: true, mapsAsObjects: true });
// Plain objects straight from cbor-x: the scan has refused every map key that is not text.
const objectDecoder = new Decoder({ useRecords: false, mapsAsObjects: true });
// For a payload with a `__proto__` key: Maps first, so the key stays data (see toPlain).
const mapDecoder = new Decoder({ useRecords: false, mapsAsObjects: false });

/**
 * Encodes a value (plain objects become CBOR maps with text keys). Returns a fresh Buffer (what
 * mqtt.js `publish` takes).
 */
export function encode(value: unknown): Buffer {
  // cbor-x returns a view into a buffer it reuses; copy so callers may keep it.
  return Buffer.from(encoder.encode(value));
}

/**
 * Decodes exactly one CBOR item of the v1 subset. Maps become plain objects (text keys only);
 * byte strings become Uint8Array (Buffer). Throws BadCborError (its `reason` says which rule)
 * on anything else.
 */
export function decode(bytes: Uint8Array): unknown {
  // Before cbor-x: tags, indefinite lengths, deep nesting, non-text keys and lying lengths never reach it.
  scanWireCbor(bytes);
  const decoder = hadProtoKey() ? mapDecoder : objectDecoder;
  let value: unknown;
  try {
    value = decoder.decode(bytes);
  } catch (cause) {
    throw new BadCborError(cause instanceof Error ? cause.message : 'undecodable', { cause });
  }
  return decoder === mapDecoder ? toPlain(value, 0) : value;
}

/** Maps to plain objects, keeping a `__proto__` key as an own data property (no prototype pollution). */
function toPlain(value: unknown, depth: number): unknown {
  // The scan already bounds nesting; this keeps the recursion bounded on its own.
  if (depth > MAX_CBOR_DEPTH) {
    throw new BadCborError(`nested deeper than ${MAX_CBOR_DEPTH} levels`, { reason: 'cbor_depth' });
  }
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of value) {
      const plain = toPlain(item, depth + 1);
      // Plain assignment elsewhere keeps the object on V8's fast path.
      if (key === '__proto__') {
        Object.defineProperty(out, key, { value: plain, enumerable: true, writable: true, configurable: true });
      } else {
        out[key as string] = plain;
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

/**
 * CBOR of series entries and chunk bodies (docs/protocol.md §8): cbor-x's standard encoding
 * without its records extension (`useRecords: false`), in which a Uint8Array is tag 64 on a byte
 * string (RFC 8746). A chunk body is the CBOR map of a chunk, whose events are series entries, so
 * both use this one configuration: equal entries give equal bytes, and a chunk's id (the hash of
 * its bytes) does not depend on which part wrote it.
 *
 * A hand-written entry encoder was measured against cbor-x and saved nothing measurable of an
 * append (`npm run bench:cbor`, docs/design-notes.md), so cbor-x does all of it.
 */
import { Decoder, Encoder } from 'cbor-x';
import { scanChunkCbor } from './scan.js';

const entryEncoder = new Encoder({ useRecords: false });
/** Copies byte strings out of the source: the series reads payloads as views into a reused window. */
const entryDecoder = new Decoder({ useRecords: false, mapsAsObjects: true, copyBuffers: true });
const bodyDecoder = new Decoder({ useRecords: false, mapsAsObjects: true });

/**
 * The entry's bytes. cbor-x hands out a slice of a buffer it fills forward and never writes over
 * (a full buffer is replaced, not reused), so the bytes may be kept.
 */
export function encodeEntry(value: unknown): Buffer {
  return entryEncoder.encode(value);
}

/**
 * Encodes `value` straight into `target` from `at` (the series frames records in its commit
 * buffer this way). Returns the offset after the encoding, or -1 when `target` has no room for it
 * (nothing outside `target[at..]` was written): grow it and call again.
 */
export function encodeEntryInto(target: Buffer, at: number, value: unknown): number {
  const bytes = entryEncoder.encode(value);
  if (at + bytes.length > target.length) return -1;
  target.set(bytes, at);
  return at + bytes.length;
}

/** Decodes one entry's payload (already CRC-checked); throws cbor-x's error when it is not CBOR. */
export function decodeEntry(payload: Uint8Array): unknown {
  return entryDecoder.decode(payload);
}

/**
 * Decodes a chunk body that came from a peer: scanned first (`scanChunkCbor` throws BadCborError
 * with its reason), so only CBOR that decodes in time linear in its size reaches cbor-x.
 */
export function decodeChunkBody(bytes: Uint8Array): unknown {
  scanChunkCbor(bytes);
  return bodyDecoder.decode(bytes);
}

/**
 * Every CBOR path of dameso: the wire codec (standard CBOR maps with text keys, scanned before
 * decoding), series entries and chunk bodies. Other folders use CBOR only through this file.
 */
export * from './constants.js';
export { decodeChunkBody, decodeEntry, encodeEntry, encodeEntryInto } from './entries.js';
export { BadCborError, CBOR_REJECT_REASONS, type CborRejectReason, WireError } from './errors.js';
export { scanChunkCbor, scanWireCbor } from './scan.js';
export { decode, encode } from './wire.js';

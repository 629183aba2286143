/**
 * The gate every wire payload passes before anything builds a value from it: one pass over the
 * item heads (byte and text string contents are skipped, never read), no allocation, so its cost
 * is linear in the payload whatever the payload claims. It accepts only the CBOR that protocol v1
 * uses (standard CBOR maps with text keys):
 *
 *   definite-length maps with text keys, arrays, text and byte strings; integers within ±(2^53 − 1);
 *   half, single and double floats; false, true, null, undefined (a field set to undefined is
 *   written as 0xf7 and the want_chunks filter skips it); at most MAX_CBOR_DEPTH levels below the
 *   root; at most CBOR_OBJECT_ALLOWANCE + bytes / CBOR_BYTES_PER_OBJECT maps, arrays and byte
 *   strings (each becomes a JS object); at most CBOR_KEY_ALLOWANCE + bytes / CBOR_BYTES_PER_KEY
 *   distinct map keys; exactly one item.
 *
 * Everything else is refused with a coded reason (BadCborError.reason) before any work
 * proportional to what a header claims: every tag (bignums 2/3 cost cbor-x more than quadratic
 * time; shared references 28/29 build a DAG that expands exponentially), indefinite lengths, deeper
 * nesting, payloads dense in objects, and lengths or counts larger than the bytes left.
 *
 * `scanChunkCbor` is the same scan for chunk bodies (a store_chunk's bytes, a want_chunk YES, a
 * chunk file): those hold series entries, written by cbor-x, so it also accepts tag 64 on a byte
 * string (how cbor-x writes a Uint8Array) and integers of the full 64-bit range (a bigint that fits),
 * and bounds objects by CHUNK_BYTES_PER_OBJECT instead of the envelope's density, with no bound on
 * distinct keys (a snapshot's view state keys maps by chunk or node id). Every other tag is refused.
 */
import {
  CBOR_BYTES_PER_KEY,
  CBOR_BYTES_PER_OBJECT,
  CBOR_KEY_ALLOWANCE,
  CBOR_OBJECT_ALLOWANCE,
  CHUNK_BYTES_PER_OBJECT,
  CHUNK_BYTES_TAG,
  MAX_CBOR_DEPTH,
  MAX_CBOR_DISTINCT_KEYS,
} from './constants.js';
import { BadCborError, type CborRejectReason } from './errors.js';

/** Largest integer argument of major types 0 and 1 accepted: 2^53 − 1 (a JS number stays exact). */
const MAX_SAFE_ARGUMENT_HIGH_WORD = 0x1fffff;

// Items still to read at each open level (a map counts keys and values). Module-level: the scan
// never calls out, so one payload at a time is all there is.
const remaining = new Float64Array(MAX_CBOR_DEPTH + 2);
const isMap = new Uint8Array(MAX_CBOR_DEPTH + 2);

let src: Uint8Array = new Uint8Array(0);
let pos = 0;
let end = 0;
/** Scanning a chunk body (`scanChunkCbor`) rather than an envelope. */
let chunkBody = false;
/** The last payload scanned had a `__proto__` map key (see `hadProtoKey`). */
let protoKey = false;
/** `__proto__` in UTF-8. */
const PROTO_KEY = Buffer.from('__proto__');

function refuse(reason: CborRejectReason | 'bad_cbor', detail: string): never {
  // A refusal is a verdict on input, not a fault in this process: capturing a stack would make a
  // refused payload many times dearer than an accepted one of the same size.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const err = new BadCborError(`${detail} at byte ${pos}`, { reason });
  Error.stackTraceLimit = stackTraceLimit;
  throw err;
}

/**
 * Throws BadCborError (with its reason) unless `bytes` is exactly one item of the v1 subset.
 * Returns nothing: the caller decodes the bytes it now knows are safe to decode.
 */
export function scanWireCbor(bytes: Uint8Array): void {
  protoKey = false;
  chunkBody = false;
  startKeyCount(bytes.length);
  scan(bytes, CBOR_OBJECT_ALLOWANCE + Math.floor(bytes.length / CBOR_BYTES_PER_OBJECT));
}

/**
 * Throws BadCborError (with its reason) unless `bytes` is exactly one item of what a chunk body may
 * hold: the v1 subset plus tag 64 on a byte string and 64-bit integers, objects bounded by
 * CHUNK_BYTES_PER_OBJECT, distinct keys not counted. The caller bounds the size (a chunk's limit).
 */
export function scanChunkCbor(bytes: Uint8Array): void {
  protoKey = false;
  chunkBody = true;
  scan(bytes, CBOR_OBJECT_ALLOWANCE + Math.floor(bytes.length / CHUNK_BYTES_PER_OBJECT));
}

function scan(bytes: Uint8Array, objects: number): void {
  src = bytes;
  pos = 0;
  end = bytes.length;
  try {
    if (end === 0) refuse('bad_cbor', 'empty payload');
    scanItems(objects);
    if (pos !== end) refuse('cbor_trailing', `${end - pos} bytes after the item`);
  } finally {
    src = EMPTY;
  }
}

const EMPTY = new Uint8Array(0);

function scanItems(objects: number): void {
  let objectsLeft = objects;
  let depth = 0;
  remaining[0] = 1;
  isMap[0] = 0;
  for (;;) {
    while (remaining[depth] === 0) {
      if (depth === 0) return;
      depth--;
    }
    const left = remaining[depth]!;
    remaining[depth] = left - 1;
    // In a map, keys come at even counts left (2n, 2n − 2, …).
    const isKey = isMap[depth] === 1 && left % 2 === 0;
    const children = scanHead(isKey);
    if (children === NO_CHILDREN) continue;
    if (--objectsLeft < 0) refuse('cbor_objects', `more maps, arrays and byte strings than ${end} bytes allow`);
    if (children === OBJECT_WITHOUT_CHILDREN) continue;
    if (depth >= MAX_CBOR_DEPTH && children > 0) refuse('cbor_depth', `nested deeper than ${MAX_CBOR_DEPTH} levels`);
    depth++;
    remaining[depth] = children;
    isMap[depth] = lastMajor === 5 ? 1 : 0;
  }
}

/** `scanHead` results for items without children: a byte string (an object), anything else. */
const OBJECT_WITHOUT_CHILDREN = -2;
const NO_CHILDREN = -1;

/** Major type of the head `scanHead` read last. */
let lastMajor = 0;

/**
 * Reads one head and skips what it covers. Returns the number of items that follow inside it
 * (an array's elements, a map's keys and values), or OBJECT_WITHOUT_CHILDREN / NO_CHILDREN.
 */
function scanHead(isKey: boolean): number {
  if (pos >= end) refuse('cbor_length', 'item missing: the payload ends early');
  const start = pos;
  const head = src[pos++]!;
  const major = head >> 5;
  const info = head & 0x1f;
  lastMajor = major;
  if (major === 6 && !chunkBody) refuse('cbor_tag', `tag (head 0x${head.toString(16)})`);
  if (info === 31) {
    if (major === 7) refuse('bad_cbor', 'a break code outside an indefinite-length item');
    refuse('cbor_indefinite', `indefinite-length item (major type ${major})`);
  }
  if (info >= 28) refuse('bad_cbor', `reserved additional information ${info}`);
  if (isKey && major !== 3) refuse('bad_cbor', 'a map key that is not text');
  if (major === 7) return scanSimple(info, start);
  if (major === 6) return scanTaggedBytes(info, start);
  const argument = readArgument(info, major);
  const left = end - pos;
  switch (major) {
    case 0:
    case 1:
      return NO_CHILDREN;
    case 2:
    case 3:
      if (argument > left) refuse('cbor_length', `a string of ${argument} bytes with ${left} left`);
      if (isKey && !chunkBody && !addKey(src, pos, argument))
        refuse('cbor_keys', `more distinct map keys than ${end} bytes allow`);
      if (isKey && argument === PROTO_KEY.length && isProtoKey(pos)) protoKey = true;
      pos += argument;
      return major === 2 ? OBJECT_WITHOUT_CHILDREN : NO_CHILDREN;
    case 4:
      // Each element takes at least one byte.
      if (argument > left) refuse('cbor_length', `an array of ${argument} items with ${left} bytes left`);
      return argument;
    default:
      // Each entry takes at least two bytes (a key and a value).
      if (argument > left / 2) refuse('cbor_length', `a map of ${argument} entries with ${left} bytes left`);
      return argument * 2;
  }
}

/** The argument of a head (info < 28); a 64-bit one only when it fits a JS number exactly. */
function readArgument(info: number, major: number): number {
  if (info < 24) return info;
  const width = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : 8;
  if (width > end - pos) refuse('cbor_length', `a ${width}-byte argument with ${end - pos} bytes left`);
  let value = 0;
  if (width === 8) {
    const high = ((src[pos]! << 24) | (src[pos + 1]! << 16) | (src[pos + 2]! << 8) | src[pos + 3]!) >>> 0;
    if (high > MAX_SAFE_ARGUMENT_HIGH_WORD && !(chunkBody && major <= 1)) {
      if (major <= 1) refuse('cbor_int_range', 'an integer beyond ±(2^53 − 1)');
      refuse('cbor_length', `a length beyond 2^53 − 1 with ${end - pos - 4} bytes left`);
    }
    pos += 4;
    return high * 0x100000000 + readWord();
  }
  for (let i = 0; i < width; i++) value = value * 256 + src[pos++]!;
  return value;
}

/**
 * True when the last payload scanned (and accepted) had a `__proto__` map key: a decoder building
 * plain objects must then keep it as data instead of letting it set a prototype.
 */
export function hadProtoKey(): boolean {
  return protoKey;
}

function isProtoKey(at: number): boolean {
  for (let i = 0; i < PROTO_KEY.length; i++) if (src[at + i] !== PROTO_KEY[i]) return false;
  return true;
}

function readWord(): number {
  const word = ((src[pos]! << 24) | (src[pos + 1]! << 16) | (src[pos + 2]! << 8) | src[pos + 3]!) >>> 0;
  pos += 4;
  return word;
}

/**
 * In a chunk body, a tag is allowed only as CHUNK_BYTES_TAG directly on a byte string (what cbor-x
 * decodes into a Uint8Array at the cost of a copy); the pair counts as one byte string.
 */
function scanTaggedBytes(info: number, start: number): number {
  const tag = readArgument(info, 6);
  if (tag !== CHUNK_BYTES_TAG || pos >= end || src[pos]! >> 5 !== 2) {
    pos = start;
    refuse('cbor_tag', `tag ${tag} (only tag ${CHUNK_BYTES_TAG} on a byte string is allowed in a chunk)`);
  }
  return scanHead(false);
}

/** false, true, null, undefined and the three float widths; no other simple value. */
function scanSimple(info: number, start: number): number {
  if (info >= 20 && info <= 23) return NO_CHILDREN;
  const width = info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
  if (width === 0) {
    pos = start;
    refuse('bad_cbor', `simple value ${info === 24 ? src[start + 1] : info} is not one v1 uses`);
  }
  if (width > end - pos) refuse('cbor_length', `a ${width}-byte float with ${end - pos} bytes left`);
  pos += width;
  return NO_CHILDREN;
}

// ---- distinct map keys: a hash set stamped per payload (nothing to clear between payloads) ------

const KEY_SLOTS = 2 * MAX_CBOR_DISTINCT_KEYS; // a power of two: at most half full
const keyHashes = new Uint32Array(KEY_SLOTS);
const keyStamps = new Uint32Array(KEY_SLOTS);
let stamp = 0;
let keysLeft = 0;
// Per process, so that keys that collide cannot be prepared in advance.
const HASH_SEED = Math.floor(Math.random() * 0x100000000);

/** Starts counting the distinct keys of a payload of `bytes` bytes. */
function startKeyCount(bytes: number): void {
  keysLeft = Math.min(CBOR_KEY_ALLOWANCE + Math.floor(bytes / CBOR_BYTES_PER_KEY), MAX_CBOR_DISTINCT_KEYS);
  stamp++;
  if (stamp > 0xffffffff) {
    keyStamps.fill(0);
    stamp = 1;
  }
}

/**
 * Adds the key of `length` bytes at `start` of `bytes` unless this payload had it already; false
 * when the payload has more distinct keys than its size allows. Keys that collide count once.
 */
function addKey(bytes: Uint8Array, start: number, length: number): boolean {
  let hash = (0x811c9dc5 ^ HASH_SEED ^ length) >>> 0;
  for (let i = start; i < start + length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  hash >>>= 0;
  let slot = hash & (KEY_SLOTS - 1);
  while (keyStamps[slot] === stamp) {
    if (keyHashes[slot] === hash) return true;
    slot = (slot + 1) & (KEY_SLOTS - 1);
  }
  keyStamps[slot] = stamp;
  keyHashes[slot] = hash;
  return --keysLeft >= 0;
}

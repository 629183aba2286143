/**
 * The on-disk format: segment header and record framing (pure, no I/O).
 *
 * Segment: header = magic(8) | version u16 | flags u16 | firstSeq u64 | crc32 u32, then records.
 * Record:  crc32 u32 | type u8 (never 0) | length u32 (never 0) | seq u64 | payload (CBOR entry).
 * The CRC covers everything after it: the 13 other header bytes and the payload (RocksDB WAL /
 * SQLite WAL habit: a record is trusted only whole), so a torn, zero-filled or bit-flipped record
 * is never data. It comes first so that it is one CRC call over contiguous bytes (hot path).
 * All integers little-endian.
 */
import { crc32 } from 'node:zlib';
import {
  FORMAT_VERSION,
  MAX_RECORD_BYTES,
  RECORD_ENTRY,
  RECORD_HEADER_BYTES,
  RECORD_SNAPSHOT,
  SEGMENT_HEADER_BYTES,
  SEGMENT_MAGIC,
  SEGMENT_NAME_DIGITS,
  SEGMENT_SUFFIX,
} from './constants.js';
import { crc32Range } from './crc.js';

const TWO32 = 2 ** 32;
/** Largest high word of a safe integer (2^53 - 1). */
const MAX_HI = 0x1fffff;

/** u64 little-endian without BigInt (seqs are safe integers): the append path is hot. */
function writeU64(b: Buffer, v: number, at: number): void {
  b.writeUInt32LE(v % TWO32, at);
  b.writeUInt32LE(Math.floor(v / TWO32), at + 4);
}

/** u64 little-endian, or -1 when above 2^53 - 1. */
function readU64(b: Buffer, at: number): number {
  const hi = b.readUInt32LE(at + 4);
  return hi > MAX_HI ? -1 : hi * TWO32 + b.readUInt32LE(at);
}

export function segmentName(firstSeq: number): string {
  return String(firstSeq).padStart(SEGMENT_NAME_DIGITS, '0') + SEGMENT_SUFFIX;
}

const SEGMENT_NAME_RE = new RegExp(`^(\\d{${SEGMENT_NAME_DIGITS}})\\${SEGMENT_SUFFIX}$`);

/** The first seq a segment file name carries, or undefined when it is not a segment name. */
export function parseSegmentName(name: string): number | undefined {
  const m = SEGMENT_NAME_RE.exec(name);
  if (!m) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

export function encodeSegmentHeader(firstSeq: number): Buffer {
  const b = Buffer.alloc(SEGMENT_HEADER_BYTES);
  SEGMENT_MAGIC.copy(b, 0);
  b.writeUInt16LE(FORMAT_VERSION, 8);
  b.writeUInt16LE(0, 10);
  writeU64(b, firstSeq, 12);
  b.writeUInt32LE(crc32(b.subarray(0, 20)), 20);
  return b;
}

export type HeaderCheck =
  | { kind: 'ok'; version: number; firstSeq: number }
  /** Shorter than a header or all zeros: a segment whose creation was cut by a crash. */
  | { kind: 'torn' }
  | { kind: 'foreign' }
  | { kind: 'newer'; version: number }
  | { kind: 'corrupt' };

export function checkSegmentHeader(b: Buffer): HeaderCheck {
  if (b.length < SEGMENT_HEADER_BYTES) {
    // A prefix of our magic (or nothing) is a torn creation; anything else is someone else's file.
    return SEGMENT_MAGIC.subarray(0, b.length).equals(b) || b.every((x) => x === 0)
      ? { kind: 'torn' }
      : { kind: 'foreign' };
  }
  if (b.subarray(0, SEGMENT_HEADER_BYTES).every((x) => x === 0)) return { kind: 'torn' };
  if (!b.subarray(0, 8).equals(SEGMENT_MAGIC)) return { kind: 'foreign' };
  const version = b.readUInt16LE(8);
  // Checked before the CRC: a newer version may lay its header out differently.
  if (version > FORMAT_VERSION) return { kind: 'newer', version };
  if (version === 0 || b.readUInt32LE(20) !== crc32(b.subarray(0, 20))) return { kind: 'corrupt' };
  const firstSeq = readU64(b, 12);
  if (firstSeq < 1) return { kind: 'corrupt' };
  return { kind: 'ok', version, firstSeq };
}

/** Bytes a record of `payloadBytes` takes on disk. */
export function recordBytes(payloadBytes: number): number {
  return RECORD_HEADER_BYTES + payloadBytes;
}

const OFF_TYPE = 4;
const OFF_LEN = 5;
const OFF_SEQ = 9;

/** Frame a record into `b` at `at` (which must have room); returns the offset after it. */
export function writeRecord(b: Buffer, at: number, type: number, seq: number, payload: Uint8Array): number {
  b.set(payload, at + RECORD_HEADER_BYTES);
  return sealRecord(b, at, type, seq, payload.length);
}

/**
 * Write the header (CRC last) of a record whose payload of `payloadBytes` already sits at
 * `at + RECORD_HEADER_BYTES` (the series encodes entries in place); returns the offset after it.
 */
export function sealRecord(b: Buffer, at: number, type: number, seq: number, payloadBytes: number): number {
  // Plain byte stores (the caller guarantees room): writeUInt32LE's range checks cost more than
  // the framing itself on the append path.
  b[at + OFF_TYPE] = type;
  put32(b, at + OFF_LEN, payloadBytes);
  put32(b, at + OFF_SEQ, seq % TWO32);
  put32(b, at + OFF_SEQ + 4, Math.floor(seq / TWO32));
  const end = at + RECORD_HEADER_BYTES + payloadBytes;
  put32(b, at, crc32Range(b, at + OFF_TYPE, end));
  return end;
}

/** u32 little-endian, no checks (`v` is an integer in [0, 2^32)). */
function put32(b: Buffer, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = v >>> 24;
}

export function encodeRecord(type: number, seq: number, payload: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  writeRecord(b, 0, type, seq, payload);
  return b;
}

export interface RecordHeader {
  type: number;
  length: number;
  seq: number;
  crc: number;
}

/** Parse a record header; undefined when it cannot be one (zero type, zero/huge length, bad seq). */
export function parseRecordHeader(b: Buffer, at: number, minSeq: number): RecordHeader | undefined {
  const type = b[at + OFF_TYPE];
  if (type !== RECORD_ENTRY && type !== RECORD_SNAPSHOT) return undefined;
  const length = b.readUInt32LE(at + OFF_LEN);
  if (length === 0 || length > MAX_RECORD_BYTES) return undefined;
  const seq = readU64(b, at + OFF_SEQ);
  if (seq < minSeq || seq < 1) return undefined;
  return { type, length, seq, crc: b.readUInt32LE(at) };
}

/** The length field of the bytes at `at` read as a header (for skipping a damaged record), or 0. */
export function claimedLength(b: Buffer, at: number): number {
  return b[at + OFF_TYPE] === 0 ? 0 : b.readUInt32LE(at + OFF_LEN);
}

/** True when `b[at..]` holds the whole record described by `h` and its CRC matches. */
export function recordCrcOk(b: Buffer, at: number, h: RecordHeader): boolean {
  return crc32(b.subarray(at + OFF_TYPE, at + RECORD_HEADER_BYTES + h.length)) === h.crc;
}

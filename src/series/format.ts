/**
 * The on-disk format: segment header and record framing (pure, no I/O).
 *
 * Segment: header = magic(8) | version u16 | flags u16 | firstSeq u64 | crc32 u32, then records.
 * Record:  type u8 (never 0) | length u32 (never 0) | seq u64 | crc32 u32 | payload (CBOR entry).
 * The record CRC covers its 13 header bytes, then the payload (RocksDB WAL / SQLite WAL habit: a
 * record is trusted only whole), so a torn, zero-filled or bit-flipped record is never data.
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
  b.writeBigUInt64LE(BigInt(firstSeq), 12);
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
  const firstSeq = Number(b.readBigUInt64LE(12));
  return { kind: 'ok', version, firstSeq };
}

export function encodeRecord(type: number, seq: number, payload: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  b.writeUInt8(type, 0);
  b.writeUInt32LE(payload.length, 1);
  b.writeBigUInt64LE(BigInt(seq), 5);
  b.set(payload, RECORD_HEADER_BYTES);
  b.writeUInt32LE(crc32(payload, crc32(b.subarray(0, 13))), 13);
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
  const type = b[at];
  if (type !== RECORD_ENTRY && type !== RECORD_SNAPSHOT) return undefined;
  const length = b.readUInt32LE(at + 1);
  if (length === 0 || length > MAX_RECORD_BYTES) return undefined;
  const seqBig = b.readBigUInt64LE(at + 5);
  if (seqBig < BigInt(minSeq) || seqBig > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return { type, length, seq: Number(seqBig), crc: b.readUInt32LE(at + 13) };
}

/** True when `b[at..]` holds the whole record described by `h` and its CRC matches. */
export function recordCrcOk(b: Buffer, at: number, h: RecordHeader): boolean {
  const head = b.subarray(at, at + 13);
  const payload = b.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + h.length);
  return crc32(payload, crc32(head)) === h.crc;
}

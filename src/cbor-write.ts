/**
 * CBOR heads, numbers and text exactly as cbor-x 1.6 writes them, shared by the series' encoder
 * (src/series/cbor.ts) and the wire's (src/protocol/flat-encoder.ts), which must both give cbor-x's
 * bytes. Numbers: integers in [-2^32, 2^32) as CBOR ints (shortest form), -0 as 0, everything else
 * float64 (cbor-x without useFloat32). Text of under 64
 * UTF-16 units goes through cbor-x's own loop (a lone surrogate becomes its 3-byte WTF-8 form);
 * longer text through Buffer's UTF-8 writer, as cbor-x does (U+FFFD for a lone surrogate). The header
 * is the shortest for the UTF-8 length: the bytes are written after a guessed header and moved
 * when the guess was wrong, as in cbor-x.
 */

/** Bytes of the shortest CBOR head for argument `n`. */
export function headBytes(n: number): number {
  return n < 0x18 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

/** Writes a head of major type `major` (0x00, 0x20…) with argument `n`, shortest form; 5 bytes of room. */
export function writeHead(b: Buffer, at: number, major: number, n: number): number {
  if (n < 0x18) {
    b[at] = major | n;
    return at + 1;
  }
  if (n < 0x100) {
    b[at] = major | 0x18;
    b[at + 1] = n;
    return at + 2;
  }
  if (n < 0x10000) {
    b[at] = major | 0x19;
    b[at + 1] = n >> 8;
    b[at + 2] = n & 0xff;
    return at + 3;
  }
  b[at] = major | 0x1a;
  put32(b, at + 1, n);
  return at + 5;
}

/** u32 big-endian, no checks (Buffer's writeUInt32BE validates its arguments on every call). */
function put32(b: Buffer, at: number, n: number): void {
  b[at] = n >>> 24;
  b[at + 1] = (n >>> 16) & 0xff;
  b[at + 2] = (n >>> 8) & 0xff;
  b[at + 3] = n & 0xff;
}

/** float64 big-endian through a scratch view of the double's bytes: no per-call checks. */
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function putFloat64(b: Buffer, at: number, v: number): void {
  f64[0] = v;
  if (LITTLE_ENDIAN_HOST) for (let i = 0; i < 8; i++) b[at + i] = f64Bytes[7 - i] as number;
  else for (let i = 0; i < 8; i++) b[at + i] = f64Bytes[i] as number;
}

/** Writes the number `v` as cbor-x does; 9 bytes of room. */
export function writeNumber(b: Buffer, at: number, v: number): number {
  if (v >>> 0 === v) return writeHead(b, at, 0x00, v >>> 0);
  if (v >> 0 === v) {
    if (v >= -0x18) {
      b[at] = 0x1f - v;
      return at + 1;
    }
    return writeHead(b, at, 0x20, ~v);
  }
  if (v < 0 && v >= -0x100000000 && Math.floor(v) === v) {
    b[at] = 0x3a;
    put32(b, at + 1, -1 - v);
    return at + 5;
  }
  b[at] = 0xfb;
  putFloat64(b, at + 1, v);
  return at + 9;
}

/**
 * Writes `s` as CBOR text at `at` in `b` and returns the offset after it. The caller guarantees
 * `5 + 3 * s.length` bytes of room from `at`.
 */
export function writeText(b: Buffer, at: number, s: string): number {
  const n = s.length;
  let start: number;
  let len: number;
  if (n < 0x40) {
    start = at + (n < 0x20 ? 1 : 2);
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
    len = p - start;
  } else {
    start = at + 5;
    len = b.write(s, start, 'utf8');
  }
  const hb = headBytes(len);
  if (start !== at + hb) b.copyWithin(at + hb, start, start + len);
  writeHead(b, at, 0x60, len);
  return at + hb + len;
}

/**
 * Encodings of frozen objects whose values are all primitives: such an object can never change, so
 * its bytes are kept (weakly) and copied the next time. The limiter gate hands the same frozen
 * `lim` to decision after decision and reply after reply while the values hold. One per encoder:
 * the series and the wire write maps differently.
 */
export class FrozenEncodings {
  private readonly bytes = new WeakMap<object, Buffer>();

  /** The kept bytes of `o`, when `o` is frozen and was encoded before. */
  get(o: object): Buffer | undefined {
    return Object.isFrozen(o) ? this.bytes.get(o) : undefined;
  }

  /** Keep `encoded` as the bytes of `o` when `o` is frozen and holds primitives only (else it may change). */
  keep(o: Record<string, unknown>, encoded: Uint8Array): void {
    if (!Object.isFrozen(o)) return;
    for (const k in o) {
      const v = o[k];
      if (typeof v === 'object' && v !== null) return;
    }
    this.bytes.set(o, Buffer.from(encoded));
  }
}

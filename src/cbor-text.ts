/**
 * CBOR text exactly as cbor-x 1.6 writes it, shared by the series' encoder (src/series/cbor.ts) and
 * the wire's (src/protocol/flat-encoder.ts), which must both give cbor-x's bytes. Text of under 64
 * UTF-16 units goes through cbor-x's own loop (a lone surrogate becomes its 3-byte WTF-8 form);
 * longer text through Buffer's UTF-8 writer, as cbor-x does (U+FFFD for a lone surrogate). The header
 * is the shortest for the UTF-8 length: the bytes are written after a guessed header and moved
 * when the guess was wrong, as in cbor-x.
 */

/** Bytes of the shortest CBOR head for argument `n`. */
export function headBytes(n: number): number {
  return n < 0x18 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
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
  if (hb === 1) b[at] = 0x60 | len;
  else if (hb === 2) {
    b[at] = 0x78;
    b[at + 1] = len;
  } else if (hb === 3) {
    b[at] = 0x79;
    b[at + 1] = len >> 8;
    b[at + 2] = len & 0xff;
  } else {
    b[at] = 0x7a;
    b.writeUInt32BE(len, at + 1);
  }
  return at + hb + len;
}

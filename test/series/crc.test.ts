import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32Range } from '../../src/series/crc.js';

describe('crc32Range', () => {
  it('equals zlib.crc32 of the same range, short and long', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1200 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        const buf = Buffer.from(bytes);
        const start = bytes.length === 0 ? 0 : a % (bytes.length + 1);
        const end = start + (bytes.length === 0 ? 0 : b % (bytes.length - start + 1));
        expect(crc32Range(buf, start, end)).toBe(crc32(buf.subarray(start, end)));
      }),
      { numRuns: 2000 },
    );
  });
});

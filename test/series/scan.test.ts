import type { FileHandle } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { READ_BLOCK_BYTES, READ_FIRST_BLOCK_BYTES } from '../../src/series/index.js';
import { FileWindow } from '../../src/series/scan.js';

/** A file of `size` bytes (byte i = i mod 251) that records the length of every read asked of it. */
function fakeFile(size: number): { fh: FileHandle; reads: number[] } {
  const reads: number[] = [];
  const fh = {
    read(buf: Buffer, offset: number, length: number, position: number) {
      reads.push(length);
      const n = Math.max(0, Math.min(length, size - position));
      for (let i = 0; i < n; i++) buf[offset + i] = (position + i) % 251;
      return Promise.resolve({ bytesRead: n, buffer: buf });
    },
  } as unknown as FileHandle;
  return { fh, reads };
}

describe('FileWindow', () => {
  it('a lookup near the start reads one small block, not a full read window', async () => {
    const { fh, reads } = fakeFile(8 * 1024 * 1024);
    const w = new FileWindow(fh, 8 * 1024 * 1024);
    const got = await w.get(100, 200);
    expect(got?.buf[got.at]).toBe(100 % 251);
    expect(reads).toEqual([READ_FIRST_BLOCK_BYTES]);
  });

  it('a long scan doubles its reads up to READ_BLOCK_BYTES and sees every byte right', async () => {
    const size = 6 * 1024 * 1024;
    const { fh, reads } = fakeFile(size);
    const w = new FileWindow(fh, size);
    for (let off = 0; off < size; ) {
      const v = await w.from(off);
      if (!v) break;
      expect(v.buf[v.at]).toBe(off % 251);
      expect(v.buf[v.at + v.avail - 1]).toBe((off + v.avail - 1) % 251);
      off += v.avail;
    }
    expect(reads[0]).toBe(READ_FIRST_BLOCK_BYTES);
    for (let i = 1; i < reads.length - 1; i++) {
      expect(reads[i]).toBe(Math.min(READ_FIRST_BLOCK_BYTES * 2 ** i, READ_BLOCK_BYTES));
    }
    expect(Math.max(...reads)).toBe(READ_BLOCK_BYTES);
    expect(reads.reduce((a, b) => a + b, 0)).toBe(size);
  });

  it('grows at once to fit a record larger than the window', async () => {
    const { fh, reads } = fakeFile(4 * 1024 * 1024);
    const w = new FileWindow(fh, 4 * 1024 * 1024);
    const big = 3 * 1024 * 1024;
    const got = await w.get(10, big);
    expect(got?.buf.length).toBeGreaterThanOrEqual(big);
    expect(got?.buf[got.at + big - 1]).toBe((10 + big - 1) % 251);
    expect(reads).toEqual([big]);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketSizeScanner } from '../../broker/packet-guard.js';
import { remainingLength } from '../helpers/hostile.js';

/** An MQTT packet: type byte, Remaining Length (MQTT-2.2.3 varint), body. */
function packet(bodyBytes: number, type = 0x30): Buffer {
  return Buffer.concat([Buffer.from([type]), remainingLength(bodyBytes), Buffer.alloc(bodyBytes, 7)]);
}

describe('PacketSizeScanner', () => {
  it('accepts packets up to the limit (whole packet, header included) and refuses one byte more', () => {
    expect(new PacketSizeScanner(102).feed(packet(100))).toBe(true); // 1 + 1 + 100
    expect(new PacketSizeScanner(101).feed(packet(100))).toBe(false);
    expect(new PacketSizeScanner(1_000_003).feed(packet(1_000_000))).toBe(false); // 3 length bytes
    expect(new PacketSizeScanner(1_000_004).feed(packet(1_000_000))).toBe(true);
  });

  it('follows packet boundaries across arbitrary splits of a stream', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }),
        (sizes, cuts) => {
          const stream = Buffer.concat(sizes.map((n) => packet(n)));
          const biggest = Math.max(...sizes.map((n) => packet(n).length - 0));
          const ok = new PacketSizeScanner(biggest);
          const tooSmall = new PacketSizeScanner(biggest - 1);
          let pos = 0;
          let i = 0;
          let okResult = true;
          let smallResult = true;
          while (pos < stream.length) {
            const piece = stream.subarray(pos, pos + cuts[i++ % cuts.length]!);
            pos += piece.length;
            okResult = ok.feed(piece) && okResult;
            smallResult = tooSmall.feed(piece) && smallResult;
          }
          expect(okResult).toBe(true);
          expect(smallResult).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a Remaining Length of more than four bytes (MQTT-2.2.3) and stays refused', () => {
    const scanner = new PacketSizeScanner(Number.MAX_SAFE_INTEGER);
    expect(scanner.feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe(false);
    expect(scanner.feed(packet(1))).toBe(false);
    expect(scanner.exceeded).toBe(true);
  });

  it('refuses at the header, before the body arrives', () => {
    const scanner = new PacketSizeScanner(1000);
    expect(scanner.feed(packet(5000).subarray(0, 3))).toBe(false);
  });
  it('holds the first packet (the CONNECT) to its own smaller limit, later ones to the packet limit', () => {
    expect(new PacketSizeScanner(1000, 100).feed(packet(150, 0x10))).toBe(false);
    const scanner = new PacketSizeScanner(1000, 100);
    expect(scanner.feed(packet(50, 0x10))).toBe(true);
    expect(scanner.feed(packet(150))).toBe(true);
  });

  it('tells the bytes of the packet under way and counts whole packets', () => {
    const scanner = new PacketSizeScanner(10_000);
    const p = packet(300); // 1 type byte, 2 length bytes, 300 body bytes
    expect([scanner.midPacket, scanner.pendingBytes]).toEqual([false, 0]);
    scanner.feed(p.subarray(0, 2));
    expect([scanner.midPacket, scanner.pendingBytes]).toEqual([true, 2]);
    scanner.feed(p.subarray(2, 103));
    expect(scanner.pendingBytes).toBe(103);
    scanner.feed(Buffer.concat([p.subarray(103), packet(0, 0xc0)]));
    expect([scanner.midPacket, scanner.pendingBytes, scanner.completed]).toEqual([false, 0, 2]);
  });
});

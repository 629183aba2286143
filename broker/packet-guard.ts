/**
 * Maximum MQTT packet size. Aedes 1.x has no option for it, so we read the fixed header of every
 * packet as bytes reach Aedes' parser (MQTT-2.2: one type byte, then the Remaining Length in 1–4
 * bytes of 7 bits) and close the connection as soon as a header announces more than the limit —
 * before its body is buffered. One scan per byte of header, none per byte of body. The first packet
 * (the CONNECT, MQTT-3.1.0-1) has a smaller limit: an unauthenticated peer cannot make the broker
 * buffer a whole packet-size. The scanner also tells whether a packet is under way and how many
 * have completed, which is what the sweep (connection-sweep.ts) reads for slow packets and idleness.
 */
import type { Client } from 'aedes';
import { BrokerInternalsError } from './errors.js';

const TYPE = 0;
const LENGTH = 1;
const BODY = 2;

/** Incremental fixed-header scanner for one connection. */
export class PacketSizeScanner {
  private state = TYPE;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private skip = 0;
  /** Set when a packet exceeded the limit (or its length was malformed). */
  exceeded = false;
  /** Whole packets seen so far. */
  completed = 0;
  private limit: number;

  /** `firstPacketMaxBytes` (default `maxPacketBytes`) bounds the first packet only. */
  constructor(
    private readonly maxPacketBytes: number,
    firstPacketMaxBytes = maxPacketBytes,
  ) {
    this.limit = Math.min(firstPacketMaxBytes, maxPacketBytes);
  }

  /** True between the first and the last byte of a packet. */
  get midPacket(): boolean {
    return this.state !== TYPE;
  }

  /** Feeds bytes in stream order; false once a packet announced more than the limit. */
  feed(buf: Uint8Array): boolean {
    if (this.exceeded) return false;
    let i = 0;
    while (i < buf.length) {
      if (this.state === BODY) {
        const n = Math.min(this.skip, buf.length - i);
        this.skip -= n;
        i += n;
        if (this.skip === 0) this.endPacket();
      } else if (this.state === TYPE) {
        i++;
        this.state = LENGTH;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
      } else {
        const b = buf[i++]!;
        this.length += (b & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.lengthBytes++;
        if (b & 0x80) {
          // MQTT-2.2.3: at most four bytes of Remaining Length.
          if (this.lengthBytes === 4) return this.fail();
          continue;
        }
        if (1 + this.lengthBytes + this.length > this.limit) return this.fail();
        this.skip = this.length;
        if (this.skip === 0) this.endPacket();
        else this.state = BODY;
      }
    }
    return true;
  }

  private endPacket(): void {
    this.state = TYPE;
    this.completed++;
    this.limit = this.maxPacketBytes;
  }

  private fail(): false {
    this.exceeded = true;
    return false;
  }
}

interface ParserLike {
  parse(buf: Buffer): unknown;
}

/**
 * Puts a scanner in front of the Aedes client's parser and returns it. `onExceeded` runs once; the
 * connection is destroyed and the oversize bytes are never parsed.
 */
export function guardPacketSize(
  client: Client,
  limits: { maxPacketBytes: number; maxConnectPacketBytes?: number },
  onExceeded: () => void,
): PacketSizeScanner {
  const parser = (client as unknown as { _parser?: ParserLike })._parser;
  if (!parser || typeof parser.parse !== 'function') throw new BrokerInternalsError('client._parser.parse is missing');
  const parse = parser.parse.bind(parser);
  const scanner = new PacketSizeScanner(limits.maxPacketBytes, limits.maxConnectPacketBytes);
  parser.parse = (buf: Buffer) => {
    if (scanner.feed(buf)) return parse(buf);
    if (!reported) {
      reported = true;
      onExceeded();
      client.conn.destroy();
    }
    return 0;
  };
  let reported = false;
  return scanner;
}

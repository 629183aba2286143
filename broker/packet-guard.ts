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

  /** Bytes of the packet under way received so far (what the parser holds for it), 0 between packets. */
  get pendingBytes(): number {
    if (this.state === TYPE) return 0;
    if (this.state === LENGTH) return 1 + this.lengthBytes;
    return 1 + this.lengthBytes + this.length - this.skip;
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

/** Bytes held in incomplete packets by every connection together, against one bound. */
export class PendingBudget {
  used = 0;
  constructor(readonly maxBytes: number) {}
}

export interface GuardEvents {
  /** A packet announced more than its limit. */
  onExceeded(): void;
  /** The bytes of incomplete packets, every connection together, would cross the budget. */
  onOverBudget?(): void;
}

/**
 * Puts a scanner in front of the Aedes client's parser and returns it. A packet over its limit, or
 * bytes that would take the incomplete packets of every connection past `budget`, close the
 * connection (one event, once); those bytes are never parsed.
 */
export function guardPacketSize(
  client: Client,
  limits: { maxPacketBytes: number; maxConnectPacketBytes?: number; budget?: PendingBudget },
  events: GuardEvents,
): PacketSizeScanner {
  const parser = (client as unknown as { _parser?: ParserLike })._parser;
  if (!parser || typeof parser.parse !== 'function') throw new BrokerInternalsError('client._parser.parse is missing');
  const parse = parser.parse.bind(parser);
  const scanner = new PacketSizeScanner(limits.maxPacketBytes, limits.maxConnectPacketBytes);
  const budget = limits.budget;
  let held = 0; // this connection's share of budget.used
  let refused = false;
  const refuse = (event: () => void) => {
    if (!refused) {
      refused = true;
      event();
      client.conn.destroy();
    }
    return 0;
  };
  parser.parse = (buf: Buffer) => {
    if (refused) return 0;
    if (!scanner.feed(buf)) return refuse(events.onExceeded);
    if (budget !== undefined) {
      const pending = scanner.pendingBytes;
      budget.used += pending - held;
      held = pending;
      if (budget.used > budget.maxBytes) return refuse(() => events.onOverBudget?.());
    }
    return parse(buf);
  };
  client.conn.once('close', () => {
    if (budget !== undefined) budget.used -= held;
    held = 0;
  });
  return scanner;
}

/**
 * Why a message from the wire was rejected. One class per condition, each with a stable code and a
 * short `reason` used as a counter key (broker stats, node stats). Bad input from the wire is
 * rejected, counted and logged once; it never crashes the process.
 */
import { type CborRejectReason, WireError } from '../cbor/index.js';

export { BadCborError, CBOR_REJECT_REASONS, type CborRejectReason, WireError } from '../cbor/index.js';

/** The counter keys of wire rejections, one per error class. */
export type WireRejectReason =
  | 'bad_cbor'
  | CborRejectReason
  | 'bad_envelope'
  | 'too_large'
  | 'bad_id'
  | 'topic_mismatch'
  | 'bad_version'
  | 'bad_topic';

/** A field is missing or has the wrong type or range. */
export class BadEnvelopeError extends WireError {
  readonly reason = 'bad_envelope' as const;
  readonly field: string;
  constructor(field: string, detail: string) {
    super('DAMESO_BAD_ENVELOPE', `envelope field "${field}" ${detail}`);
    this.field = field;
  }
}

/** The payload is larger than MAX_PAYLOAD_BYTES. */
export class TooLargeError extends WireError {
  readonly reason = 'too_large' as const;
  readonly bytes: number;
  readonly maxBytes: number;
  constructor(bytes: number, maxBytes: number) {
    super('DAMESO_TOO_LARGE', `payload of ${bytes} bytes exceeds the ${maxBytes}-byte limit; split it into chunks`);
    this.bytes = bytes;
    this.maxBytes = maxBytes;
  }
}

/** A node id, kind, chunk id or intent id does not match its pattern. */
export class BadIdError extends WireError {
  readonly reason = 'bad_id' as const;
  readonly field: string;
  constructor(field: string, value: unknown, rule: string) {
    super('DAMESO_BAD_ID', `${field} ${JSON.stringify(String(value)).slice(0, 80)} must match ${rule}`);
    this.field = field;
  }
}

/** The payload names another node/kind/chunk than the topic it was published on (spoofing). */
export class TopicMismatchError extends WireError {
  readonly reason = 'topic_mismatch' as const;
  readonly field: string;
  constructor(field: string, inPayload: string, inTopic: string) {
    super(
      'DAMESO_TOPIC_MISMATCH',
      `envelope ${field} "${inPayload.slice(0, 64)}" is not "${inTopic}" from the topic (spoofed or misrouted)`,
    );
    this.field = field;
  }
}

/** `v` is not a version this node speaks. */
export class BadVersionError extends WireError {
  readonly reason = 'bad_version' as const;
  readonly version: unknown;
  constructor(version: unknown) {
    super('DAMESO_BAD_VERSION', `envelope version ${JSON.stringify(version)} is not supported (this node speaks v1)`);
    this.version = version;
  }
}

/** A topic under the dameso root that is not one of the v1 topic families. */
export class BadTopicError extends WireError {
  readonly reason = 'bad_topic' as const;
  readonly topic: string;
  constructor(topic: string, detail: string) {
    super('DAMESO_BAD_TOPIC', `topic "${topic.slice(0, 200)}" ${detail}`);
    this.topic = topic;
  }
}

/** True when `err` is one of the wire rejections above. */
export function isWireError(err: unknown): err is WireError & { reason: WireRejectReason } {
  return err instanceof WireError;
}

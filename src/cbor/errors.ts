/**
 * Why wire bytes were refused as CBOR. `WireError` is the base of every wire rejection (the
 * protocol's envelope errors extend it too); its `reason` is the counter key.
 */
import { DamesoError } from '../errors.js';

/**
 * Why a payload's CBOR was refused before decoding (scan.ts): a tag, an
 * indefinite length, nesting past MAX_CBOR_DEPTH, more maps, arrays and byte strings than the
 * payload's size allows (CBOR_BYTES_PER_OBJECT), more distinct map keys than it allows
 * (CBOR_BYTES_PER_KEY), a length or count larger than the bytes left, an integer beyond
 * ±(2^53 − 1), bytes after the item. Other malformed CBOR is `bad_cbor`.
 */
export type CborRejectReason =
  | 'cbor_tag'
  | 'cbor_indefinite'
  | 'cbor_depth'
  | 'cbor_objects'
  | 'cbor_keys'
  | 'cbor_length'
  | 'cbor_int_range'
  | 'cbor_trailing';

export const CBOR_REJECT_REASONS: readonly CborRejectReason[] = [
  'cbor_tag',
  'cbor_indefinite',
  'cbor_depth',
  'cbor_objects',
  'cbor_keys',
  'cbor_length',
  'cbor_int_range',
  'cbor_trailing',
];

/** Base of every wire rejection; `reason` is its counter key (broker stats, node stats). */
export abstract class WireError extends DamesoError {
  abstract readonly reason: string;
}

/**
 * The payload is not one item of the CBOR subset v1 uses; `reason` says which rule it broke
 * (`bad_cbor` when it is malformed in another way, or a map key is not text).
 */
export class BadCborError extends WireError {
  readonly reason: 'bad_cbor' | CborRejectReason;
  constructor(detail: string, options?: { cause?: unknown; reason?: CborRejectReason | 'bad_cbor' }) {
    super('DAMESO_BAD_CBOR', `payload is not a standard CBOR map with text keys: ${detail}`, options);
    this.reason = options?.reason ?? 'bad_cbor';
  }
}

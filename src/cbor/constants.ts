/**
 * The bounds of the CBOR subset wire protocol v1 accepts (docs/protocol.md §4), enforced by the
 * scan (scan.ts) before anything decodes.
 */

/**
 * Deepest nesting a wire payload may have: items at most this many levels below the root (a chunk's
 * events sit three levels down). Bounds the decoders' recursion on hostile input.
 */
export const MAX_CBOR_DEPTH = 64;

/**
 * Maps, arrays and byte strings a wire payload may hold: CBOR_OBJECT_ALLOWANCE plus one per
 * CBOR_BYTES_PER_OBJECT bytes. Each becomes a JS object, which costs far more than reading the byte
 * or two that ask for it, so a payload made of tiny ones would cost every receiver many times what
 * an envelope of its size costs; v1 envelopes hold a few in hundreds of bytes (an answer of 64
 * observations: 65 maps in several KiB).
 */
export const CBOR_OBJECT_ALLOWANCE = 16;
export const CBOR_BYTES_PER_OBJECT = 16;

/**
 * Distinct map keys a wire payload may hold: CBOR_KEY_ALLOWANCE plus one per CBOR_BYTES_PER_KEY
 * bytes, and never more than MAX_CBOR_DISTINCT_KEYS. A key the process has not seen gives V8 a new
 * hidden class and a string to intern, far dearer than its bytes; v1 envelopes repeat a few dozen
 * keys (an answer of 64 observations repeats the same handful).
 */
export const CBOR_KEY_ALLOWANCE = 64;
export const CBOR_BYTES_PER_KEY = 64;
export const MAX_CBOR_DISTINCT_KEYS = 16_384;

/**
 * Chunk bodies (series entries written by cbor-x) may hold one map, array or byte string per this
 * many bytes, plus CBOR_OBJECT_ALLOWANCE: looser than an envelope, since an entry may be a list of
 * small arrays, yet a body made of one-byte empty arrays (the dearest object per byte to decode)
 * is refused.
 */
export const CHUNK_BYTES_PER_OBJECT = 2;

/** The one tag a chunk body may hold, on a byte string: RFC 8746 Uint8Array, as cbor-x writes it. */
export const CHUNK_BYTES_TAG = 64;

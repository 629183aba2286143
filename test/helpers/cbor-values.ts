/**
 * Random values for the encoders held to cbor-x's bytes (series and wire): the number edges of
 * each CBOR int form, text of every kind (lone surrogates included, short and long), bytes,
 * and nestings of arrays and plain objects.
 */
import fc from 'fast-check';

export const cborScalar = fc.oneof(
  fc.integer(),
  fc.integer({ min: -(2 ** 33), max: 2 ** 33 }),
  fc.maxSafeInteger(),
  fc.double(),
  fc.constantFrom(
    0,
    -0,
    23,
    24,
    255,
    256,
    65535,
    65536,
    2 ** 32 - 1,
    2 ** 32,
    -24,
    -25,
    -256,
    -257,
    -65536,
    -65537,
    -(2 ** 31),
    -(2 ** 31) - 1,
    -(2 ** 32),
    -(2 ** 32) - 1,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 300 }),
);

export const cborValue = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    cborScalar,
    fc.array(tie('v'), { maxLength: 30 }),
    fc.dictionary(fc.string({ maxLength: 40 }), tie('v'), { maxKeys: 30 }),
  ),
})).v;

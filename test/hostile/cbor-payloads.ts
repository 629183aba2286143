/**
 * Hostile CBOR payloads for the wire tests: the constructs an attack run used to stall the broker
 * and the nodes (shared-reference DAGs, huge bignums), and the other ways to make a decoder work
 * far more than the bytes it was sent (deep nesting, indefinite lengths, lying length headers, a
 * megabyte of tiny nested arrays). Each is returned with the reason the wire scan must give.
 */
import { encode } from '../../src/protocol/index.js';
import { intent, reply } from '../protocol/fixtures.js';

export interface HostilePayload {
  name: string;
  bytes: Buffer;
  /** Another payload of the same shape whose map keys no payload had before (V8 has not seen them). */
  fresh?: () => Buffer;
  /** The drop reason expected, or 'ok' for a payload inside the v1 subset (it must pass, linearly). */
  reason: string;
}

const cat = (...parts: Uint8Array[]) => Buffer.concat(parts);

/**
 * Tags 28/29 (value sharing): each level is a shared array holding the level below it and a
 * reference to that same level, so the decoded value doubles at each level while the payload grows
 * by a few bytes. Shared values are numbered in the order they open: the outermost is 0.
 */
export function sharedRefDag(levels: number): Buffer {
  let item = Buffer.from([0xd8, 0x1c, 0x80]); // the innermost shareable: []
  for (let k = levels - 1; k >= 0; k--) {
    const inner = k + 1;
    const ref = inner < 24 ? Buffer.from([0xd8, 0x1d, inner]) : Buffer.from([0xd8, 0x1d, 0x18, inner]);
    item = cat(Buffer.from([0xd8, 0x1c, 0x82]), item, ref); // shareable #k: [#k+1, ref #k+1]
  }
  return item;
}

/** Tag 2 (unsigned bignum) over `bytes` bytes of 0xff. */
export function bignum(bytes: number): Buffer {
  const head = Buffer.alloc(6);
  head[0] = 0xc2;
  head[1] = 0x5a;
  head.writeUInt32BE(bytes, 2);
  return cat(head, Buffer.alloc(bytes, 0xff));
}

/** The bytes of a valid intent whose `body` is the raw CBOR `item` (spliced in as written). */
export function intentWithBody(item: Uint8Array, from = 'evil'): Buffer {
  const marker = Buffer.from('__BODY__');
  const env = encode({ ...intent(from, { id: `hostile-${item.length}` }), body: '__BODY__' });
  const at = env.indexOf(marker) - 1; // the text head of the marker (one byte: 8 < 24)
  return cat(env.subarray(0, at), item, env.subarray(at + 1 + marker.length));
}

/** The bytes of a valid reply whose `data` is the raw CBOR `item`. */
export function replyWithData(item: Uint8Array, from = 'evil'): Buffer {
  const marker = Buffer.from('__DATA__');
  const env = encode({ ...reply(from), data: '__DATA__' });
  const at = env.indexOf(marker) - 1;
  return cat(env.subarray(0, at), item, env.subarray(at + 1 + marker.length));
}

/** `count` arrays each nested `levels` deep (`[[[…[]…]]]`), in one definite array. */
export function nestedArrays(count: number, levels: number): Buffer {
  const one = cat(Buffer.alloc(levels - 1, 0x81), Buffer.from([0x80]));
  return cat(arrayHead(count), ...Array.from({ length: count }, () => one));
}

/**
 * `count` arrays nested `levels` deep, the innermost holding a byte string that brings each nest to
 * CBOR_BYTES_PER_OBJECT bytes per array: as many objects, as deep, as the wire allows.
 */
export function nestedArraysAtTheBound(count: number, levels: number): Buffer {
  const padding = (levels + 1) * 16 - levels - 3; // the nest: its arrays and its byte string
  const inner = cat(Buffer.from([0x59, padding >> 8, padding & 0xff]), Buffer.alloc(padding, 7));
  const one = cat(Buffer.alloc(levels, 0x81), inner);
  return cat(arrayHead(count), ...Array.from({ length: count }, () => one));
}

/** `count` arrays of 15 small integers (16 bytes each: one array per 16 bytes, the bound). */
export function smallArraysAtTheBound(count: number): Buffer {
  const one = cat(Buffer.from([0x8f]), Buffer.alloc(15, 1));
  return cat(arrayHead(count), ...Array.from({ length: count }, () => one));
}

function arrayHead(count: number): Buffer {
  const head = Buffer.alloc(5);
  head[0] = 0x9a;
  head.writeUInt32BE(count, 1);
  return head;
}

/** `count` byte strings of one byte each (`41 00`), back to back: the chunks of an indefinite string. */
function oneByteStrings(count: number): Buffer {
  const out = Buffer.alloc(count * 2);
  for (let i = 0; i < out.length; i += 2) out[i] = 0x41;
  return out;
}

/** `count` byte strings of 15 bytes each: one per 16 bytes, the bound. */
function fifteenByteStrings(count: number): Buffer {
  const one = cat(Buffer.from([0x4f]), Buffer.alloc(15, 9));
  return cat(...Array.from({ length: count }, () => one));
}

/** Definite arrays of small integers, `count` of them, about `count` bytes: a large valid body. */
export function smallInts(count: number): Buffer {
  return cat(arrayHead(count), Buffer.alloc(count, 0x07));
}

/** Every hostile payload of the suite, as published on an intent topic (the reply ones below). */
export function hostileIntents(): HostilePayload[] {
  const megabyteOfNesting = 1_000_000;
  // In an intent, the body sits one level below the root and its array one more: 62 levels fill
  // the bound of 64 exactly.
  const deepest = 62;
  return [
    { name: 'shared-ref DAG, 30 levels', bytes: sharedRefDag(30), reason: 'cbor_tag' },
    { name: 'shared-ref DAG, 30 levels, in an intent', bytes: intentWithBody(sharedRefDag(30)), reason: 'cbor_tag' },
    { name: 'bignum 100 KB', bytes: bignum(100_000), reason: 'cbor_tag' },
    { name: 'bignum 150 KB', bytes: bignum(150_000), reason: 'cbor_tag' },
    { name: 'bignum 200 KB', bytes: bignum(200_000), reason: 'cbor_tag' },
    { name: 'bignum 200 KB, in an intent', bytes: intentWithBody(bignum(200_000)), reason: 'cbor_tag' },
    {
      name: 'self-described CBOR (tag 55799) around an intent',
      bytes: cat(Buffer.from([0xd9, 0xd9, 0xf7]), encode(intent('evil'))),
      reason: 'cbor_tag',
    },
    {
      name: 'a tag after 500 KB of valid body',
      bytes: intentWithBody(cat(Buffer.from([0x82]), smallInts(500_000), Buffer.from([0xc1, 0x00]))),
      reason: 'cbor_tag',
    },
    {
      name: 'nesting 500 000 deep',
      bytes: cat(Buffer.alloc(500_000, 0x81), Buffer.from([0x00])),
      reason: 'cbor_depth',
    },
    {
      // A 1000-byte string innermost keeps the 64 arrays within the bound on objects per byte.
      name: 'nesting 65 deep in an intent',
      bytes: intentWithBody(cat(Buffer.alloc(64, 0x81), Buffer.from([0x59, 0x03, 0xe8]), Buffer.alloc(1000, 7))),
      reason: 'cbor_depth',
    },
    { name: 'indefinite arrays, 500 000 deep', bytes: Buffer.alloc(500_000, 0x9f), reason: 'cbor_indefinite' },
    {
      name: 'indefinite byte string of 100 000 chunks in an intent',
      bytes: intentWithBody(cat(Buffer.from([0x5f]), oneByteStrings(100_000), Buffer.from([0xff]))),
      reason: 'cbor_indefinite',
    },
    {
      name: 'a byte string claiming 2^32 bytes',
      bytes: cat(Buffer.from([0x5b, 0, 0, 0, 1, 0, 0, 0, 0]), Buffer.alloc(64, 1)),
      reason: 'cbor_length',
    },
    {
      name: 'an array claiming 2^32 items, in an intent',
      bytes: intentWithBody(Buffer.from([0x9b, 0, 0, 0, 1, 0, 0, 0, 0, 0x01])),
      reason: 'cbor_length',
    },
    {
      name: 'a map claiming 2^31 entries',
      bytes: cat(Buffer.from([0xba, 0x80, 0, 0, 0]), Buffer.alloc(1000, 0x61)),
      reason: 'cbor_length',
    },
    {
      name: 'an integer of 2^64 − 1 in an intent',
      bytes: intentWithBody(Buffer.from([0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])),
      reason: 'cbor_int_range',
    },
    {
      name: 'trailing bytes after an intent',
      bytes: cat(encode(intent('evil')), Buffer.alloc(100_000, 0)),
      reason: 'cbor_trailing',
    },
    {
      name: '1 MB of tiny arrays nested to the depth bound, in an intent',
      bytes: intentWithBody(nestedArrays(Math.floor(megabyteOfNesting / deepest), deepest)),
      reason: 'cbor_objects',
    },
    {
      name: '1 MB of arrays nested to the depth bound, one per 16 bytes, in an intent',
      bytes: intentWithBody(nestedArraysAtTheBound(Math.floor(megabyteOfNesting / (deepest * 16)), deepest - 1)),
      reason: 'ok',
    },
    {
      name: '1 MB of arrays of 15 integers, in an intent',
      bytes: intentWithBody(smallArraysAtTheBound(Math.floor(megabyteOfNesting / 16) - 16)),
      reason: 'ok',
    },
    {
      name: '1 MB of one-byte byte strings, in an intent',
      bytes: intentWithBody(cat(arrayHead(megabyteOfNesting / 2), oneByteStrings(megabyteOfNesting / 2))),
      reason: 'cbor_objects',
    },
    {
      name: '1 MB of 15-byte byte strings, in an intent',
      bytes: intentWithBody(
        cat(arrayHead(megabyteOfNesting / 16 - 16), fifteenByteStrings(megabyteOfNesting / 16 - 16)),
      ),
      reason: 'ok',
    },
  ];
}

let freshKeys = 0;
/** A text head and 8 ASCII characters no other call returned. */
function freshKey(): Buffer {
  const name = `f${(freshKeys++).toString(36).padStart(7, '0')}`;
  return cat(Buffer.from([0x68]), Buffer.from(name));
}

/** An array of `count` maps of two fresh keys each (21 bytes a map): far more keys than allowed. */
function mapsOfFreshKeys(count: number): Buffer {
  return cat(
    arrayHead(count),
    ...Array.from({ length: count }, () =>
      cat(Buffer.from([0xa2]), freshKey(), Buffer.from([0x01]), freshKey(), Buffer.from([0x01])),
    ),
  );
}

/** One map of `count` fresh keys and a byte string of `padding` bytes: as many keys as allowed. */
function freshKeysAtTheBound(count: number, padding: number): Buffer {
  const head = Buffer.from([0xb9, (count + 1) >> 8, (count + 1) & 0xff]);
  const pad = Buffer.alloc(5 + padding, 7);
  pad[0] = 0x5a;
  pad.writeUInt32BE(padding, 1);
  return cat(
    head,
    ...Array.from({ length: count }, () => cat(freshKey(), Buffer.from([0x01]))),
    Buffer.from([0x61, 0x70]),
    pad,
  );
}

/** Payloads whose cost lies in map keys never seen before: each use takes fresh ones. */
export function hostileKeys(): HostilePayload[] {
  const many = () => intentWithBody(mapsOfFreshKeys(45_000));
  // 256 KiB allow 64 + 4096 distinct keys; the intent has 9 of its own, the padding 1.
  const bound = () => intentWithBody(freshKeysAtTheBound(4100, 256 * 1024 - 4100 * 10 - 200));
  const envelope = () => intentWithBody(freshKeysAtTheBound(8, 0));
  return [
    { name: '1 MB of maps of two fresh keys each', bytes: many(), fresh: many, reason: 'cbor_keys' },
    { name: '256 KB with fresh keys at the bound, in an intent', bytes: bound(), fresh: bound, reason: 'ok' },
    { name: 'an intent with 8 fresh keys in its body', bytes: envelope(), fresh: envelope, reason: 'ok' },
  ];
}

/** Hostile replies: the same constructs in a reply's `data`. */
export function hostileReplies(): HostilePayload[] {
  return [
    { name: 'shared-ref DAG in a reply', bytes: replyWithData(sharedRefDag(30)), reason: 'cbor_tag' },
    { name: 'bignum 200 KB in a reply', bytes: replyWithData(bignum(200_000)), reason: 'cbor_tag' },
    {
      name: 'indefinite map in a reply',
      bytes: replyWithData(Buffer.from([0xbf, 0x61, 0x61, 0x01, 0xff])),
      reason: 'cbor_indefinite',
    },
    {
      name: 'a text claiming 2^32 bytes in a reply',
      bytes: replyWithData(Buffer.from([0x7a, 0xff, 0xff, 0xff, 0xff])),
      reason: 'cbor_length',
    },
  ];
}

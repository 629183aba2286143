import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BadEnvelopeError,
  encode,
  isWireError,
  MAX_PAYLOAD_BYTES,
  validateHave,
  validateIntent,
  validateMessage,
  validatePresence,
  validateReply,
  validateSync,
} from '../../src/protocol/index.js';
import { CHUNK, have, intent, presence, reply } from './fixtures.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'none';
}

const P = { node: 'node-1' };
const I = { kind: 'want_chunk' };
const R = { requester: 'node-1' };
const H = { chunk: CHUNK, node: 'node-1' };

describe('validate: valid envelopes pass', () => {
  it('presence, intent, reply, have', () => {
    expect(validatePresence(encode(presence()), P)).toEqual(presence());
    expect(validatePresence(encode(presence('node-1', { state: 'offline', caps: { cpu: 4 } })), P).state).toBe(
      'offline',
    );
    expect(validateIntent(encode(intent()), I)).toEqual(intent());
    expect(validateIntent(encode(intent('n', { to: ['a', 'b'], body: { x: 1 } })), I).to).toEqual(['a', 'b']);
    expect(validateReply(encode(reply()), R).data).toEqual(Buffer.from([1, 2, 3]));
    const lim = { economic: 1, cpu: 0.5, memory: 0, w_tracking: 0.3, objective: 1, topology: 0.9 };
    expect(validateReply(encode(reply('n', { r: 'no', reason: 'storage_full', retry: 500, lim })), R).lim).toEqual(lim);
    expect(validateHave(encode(have()), H)).toEqual(have());
  });

  it('an empty have payload is a withdrawal (null)', () => {
    expect(validateHave(new Uint8Array(0), H)).toBeNull();
  });

  it('keeps unknown extra fields (forward compatibility)', () => {
    expect(validatePresence(encode({ ...presence(), zone: 'u4pr' }), P)).toMatchObject({ zone: 'u4pr' });
  });

  it('accepts bytes hand-written in RFC 8949 form (another implementation)', () => {
    // {"v":1,"node":"a","session":0,"state":"online","roles":["bt"],"t":0}
    const bytes = Buffer.from(
      'a6' +
        '6176' +
        '01' +
        '646e6f6465' +
        '6161' +
        '6773657373696f6e' +
        '00' +
        '657374617465' +
        '666f6e6c696e65' +
        '65726f6c6573' +
        '81' +
        '626274' +
        '6174' +
        '00',
      'hex',
    );
    expect(validatePresence(bytes, { node: 'a' })).toEqual({
      v: 1,
      node: 'a',
      session: 0,
      state: 'online',
      roles: ['bt'],
      t: 0,
    });
  });
});

describe('validate: each rejection has its code', () => {
  it('DAMESO_TOO_LARGE above MAX_PAYLOAD_BYTES, before decoding', () => {
    const big = new Uint8Array(MAX_PAYLOAD_BYTES + 1);
    expect(codeOf(() => validateIntent(big, I))).toBe('DAMESO_TOO_LARGE');
    const justFits = encode(reply('n', { data: new Uint8Array(MAX_PAYLOAD_BYTES - 200) }));
    expect(justFits.length).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(codeOf(() => validateReply(justFits, R))).toBe('none');
  });

  it('DAMESO_BAD_CBOR for garbage and non-text keys', () => {
    expect(codeOf(() => validatePresence(Buffer.from('hello'), P))).toBe('DAMESO_BAD_CBOR');
    expect(codeOf(() => validatePresence(new Uint8Array(0), P))).toBe('DAMESO_BAD_CBOR');
    expect(codeOf(() => validateIntent(Buffer.from('a1 01 01'.replace(/ /g, ''), 'hex'), I))).toBe('DAMESO_BAD_CBOR');
  });

  it('DAMESO_BAD_ENVELOPE for non-maps, naming the field', () => {
    expect(codeOf(() => validateIntent(encode([1, 2]), I))).toBe('DAMESO_BAD_ENVELOPE');
    expect(codeOf(() => validateIntent(encode('text'), I))).toBe('DAMESO_BAD_ENVELOPE');
    expect(codeOf(() => validateIntent(encode({ id: 'x' }), I))).toBe('DAMESO_BAD_ENVELOPE');
    const cases: [string, () => unknown][] = [
      ['session', () => validatePresence(encode(presence('node-1', { session: -1 })), P)],
      ['session', () => validatePresence(encode(presence('node-1', { session: 1.5 })), P)],
      ['state', () => validatePresence(encode(presence('node-1', { state: 'away' as 'online' })), P)],
      ['roles', () => validatePresence(encode(presence('node-1', { roles: 'bt' as unknown as string[] })), P)],
      ['t', () => validatePresence(encode(presence('node-1', { t: '1' as unknown as number })), P)],
      [
        'caps',
        () => validatePresence(encode(presence('node-1', { caps: [] as unknown as Record<string, unknown> })), P),
      ],
      ['deadline', () => validateIntent(encode(intent('n', { deadline: 0 })), I)],
      ['deadline', () => validateIntent(encode(intent('n', { deadline: 600_001 })), I)],
      ['subject', () => validateIntent(encode(intent('n', { subject: 'x'.repeat(257) })), I)],
      ['to', () => validateIntent(encode(intent('n', { to: 'a' as unknown as string[] })), I)],
      ['r', () => validateReply(encode(reply('n', { r: 'maybe' as 'yes' })), R)],
      ['reason', () => validateReply(encode(reply('n', { r: 'no', reason: 'tired' as 'rate_limited' })), R)],
      ['retry', () => validateReply(encode(reply('n', { retry: -5 })), R)],
      ['lim.cpu', () => validateReply(encode(reply('n', { lim: { economic: 1 } as never })), R)],
      ['size', () => validateHave(encode(have('node-1', { size: -1 })), H)],
    ];
    for (const [field, fn] of cases) {
      let caught: unknown;
      try {
        fn();
      } catch (err) {
        caught = err;
      }
      expect(caught, field).toBeInstanceOf(BadEnvelopeError);
      if (field !== 'lim.cpu') expect((caught as BadEnvelopeError).field).toBe(field);
      else expect((caught as BadEnvelopeError).field).toMatch(/^lim\./);
    }
  });

  it('names a missing field', () => {
    const { session: _s, ...noSession } = intent();
    try {
      validateIntent(encode(noSession), I);
      expect.unreachable();
    } catch (err) {
      expect((err as BadEnvelopeError).field).toBe('session');
      expect((err as Error).message).toContain('"session" is missing');
    }
  });

  it('DAMESO_BAD_VERSION for v other than 1, including a missing-v map being BAD_ENVELOPE', () => {
    expect(codeOf(() => validatePresence(encode({ ...presence(), v: 2 }), P))).toBe('DAMESO_BAD_VERSION');
    expect(codeOf(() => validatePresence(encode({ ...presence(), v: '1' }), P))).toBe('DAMESO_BAD_VERSION');
    const { v: _v, ...noV } = presence();
    expect(codeOf(() => validatePresence(encode(noV), P))).toBe('DAMESO_BAD_ENVELOPE');
  });

  it('DAMESO_BAD_ID for bad node ids, kinds, chunk ids and intent ids', () => {
    expect(codeOf(() => validateIntent(encode(intent('bad id')), I))).toBe('DAMESO_BAD_ID');
    expect(codeOf(() => validateIntent(encode(intent('n', { id: 'x'.repeat(65) })), I))).toBe('DAMESO_BAD_ID');
    expect(codeOf(() => validateIntent(encode(intent('n', { id: '' })), I))).toBe('DAMESO_BAD_ID');
    expect(codeOf(() => validateIntent(encode(intent('n', { kind: 'Want' })), I))).toBe('DAMESO_BAD_ID');
    expect(codeOf(() => validateIntent(encode(intent('n', { to: ['ok', 'no/slash'] })), I))).toBe('DAMESO_BAD_ID');
    expect(codeOf(() => validatePresence(encode(presence('node-1', { roles: ['BT'] })), P))).toBe('DAMESO_BAD_ID');
    expect(codeOf(() => validateHave(encode(have('node-1', { chunk: 'abc' })), H))).toBe('DAMESO_BAD_ID');
    expect(codeOf(() => validateReply(encode(reply('x'.repeat(65))), R))).toBe('DAMESO_BAD_ID');
  });

  it('DAMESO_TOPIC_MISMATCH when the payload names another node, kind or chunk (spoofing)', () => {
    expect(codeOf(() => validatePresence(encode(presence('node-2')), P))).toBe('DAMESO_TOPIC_MISMATCH');
    expect(codeOf(() => validateIntent(encode(intent('n', { kind: 'want_chunks' })), I))).toBe('DAMESO_TOPIC_MISMATCH');
    expect(codeOf(() => validateHave(encode(have('node-2')), H))).toBe('DAMESO_TOPIC_MISMATCH');
    expect(codeOf(() => validateHave(encode(have('node-1', { chunk: 'b'.repeat(64) })), H))).toBe(
      'DAMESO_TOPIC_MISMATCH',
    );
  });
});

describe('validateMessage', () => {
  it('dispatches by topic family and ignores foreign topics', () => {
    expect(validateMessage('dameso/v1/presence/node-1', encode(presence()))?.type).toBe('presence');
    expect(validateMessage('dameso/v1/intent/want_chunk', encode(intent()))?.type).toBe('intent');
    expect(validateMessage('dameso/v1/reply/node-1', encode(reply()))?.type).toBe('reply');
    expect(validateMessage(`dameso/v1/have/${CHUNK}/node-1`, new Uint8Array(0))).toMatchObject({ envelope: null });
    expect(validateMessage('elsewhere/x', Buffer.from('garbage'))).toBeUndefined();
    expect(validateMessage('site/v1/intent/want_chunk', encode(intent()), 'site/v1')?.type).toBe('intent');
    expect(codeOf(() => validateMessage('dameso/v1/nope/x', encode(intent())))).toBe('DAMESO_BAD_TOPIC');
  });
});

describe('validate: fuzz', () => {
  const topics = [
    'dameso/v1/presence/node-1',
    'dameso/v1/intent/want_chunk',
    'dameso/v1/reply/node-1',
    `dameso/v1/have/${CHUNK}/node-1`,
  ];

  it('random bytes never throw anything but a typed wire error', () => {
    fc.assert(
      fc.property(fc.constantFrom(...topics), fc.uint8Array({ maxLength: 300 }), (topic, bytes) => {
        try {
          validateMessage(topic, bytes);
        } catch (err) {
          expect(isWireError(err), String(err)).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('random CBOR values and mutated valid envelopes never throw anything but a typed wire error', () => {
    const field = fc.oneof(fc.jsonValue(), fc.uint8Array({ maxLength: 8 }), fc.constant(undefined), fc.double());
    const base = [presence(), intent(), reply(), have()];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.dictionary(
          fc.constantFrom(
            'v',
            'node',
            'session',
            'state',
            'roles',
            't',
            'id',
            'from',
            'kind',
            'deadline',
            'to',
            'r',
            'reason',
            'lim',
            'chunk',
            'size',
            'caps',
          ),
          field,
        ),
        (i, mutation) => {
          const payload = encode({ ...base[i], ...mutation });
          try {
            validateMessage(topics[i]!, payload);
          } catch (err) {
            expect(isWireError(err), String(err)).toBe(true);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('validateSync', () => {
  it('accepts the barrier record, null for a clear, and rejects a foreign node or a bad nonce', () => {
    const sync = { v: 1, node: 'node-1', nonce: '01JDAMESO', t: 5 };
    expect(validateSync(encode(sync), P)).toEqual(sync);
    expect(validateSync(new Uint8Array(0), P)).toBeNull();
    expect(codeOf(() => validateSync(encode({ ...sync, node: 'node-2' }), P))).toBe('DAMESO_TOPIC_MISMATCH');
    expect(codeOf(() => validateSync(encode({ ...sync, nonce: '' }), P))).toBe('DAMESO_BAD_ID');
    expect(codeOf(() => validateSync(encode({ ...sync, nonce: 7 }), P))).toBe('DAMESO_BAD_ID');
    expect(validateMessage('dameso/v1/sync/node-1', encode(sync))?.type).toBe('sync');
  });
});

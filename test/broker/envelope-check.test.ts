import { describe, expect, it } from 'vitest';
import { createEnvelopeCheck } from '../../broker/envelope-check.js';
import { encode } from '../../src/protocol/index.js';
import { CHUNK, have, intent, presence, reply } from '../protocol/fixtures.js';

const reasonOf = (v: ReturnType<ReturnType<typeof createEnvelopeCheck>['check']>) => (v.ok ? 'ok' : v.reason);

describe('envelope check', () => {
  it('lets topics outside the root through untouched, whatever their payload', () => {
    const check = createEnvelopeCheck();
    expect(check.check('x', 'home/kitchen/temp', Buffer.from('21.5'))).toEqual({ ok: true, dameso: false });
    expect(check.check('x', 'dameso/v2/intent/x', Buffer.from([0xff]))).toEqual({ ok: true, dameso: false });
  });

  it('honours a custom prefix', () => {
    const check = createEnvelopeCheck({ topicPrefix: 'site9' });
    expect(reasonOf(check.check(null, 'site9/v1/intent/want_chunk', Buffer.from([0xff])))).toBe('bad_cbor');
    expect(check.check(null, 'dameso/v1/intent/want_chunk', Buffer.from([0xff]))).toMatchObject({
      ok: true,
      dameso: false,
    });
  });

  it('binds dameso.{node} clients to their node for presence, intents, replies, have and clears', () => {
    const check = createEnvelopeCheck();
    const me = 'dameso.node-1';
    expect(reasonOf(check.check(me, 'dameso/v1/presence/node-1', encode(presence('node-1'))))).toBe('ok');
    expect(reasonOf(check.check(me, 'dameso/v1/presence/node-2', encode(presence('node-2'))))).toBe('spoofed');
    expect(reasonOf(check.check(me, 'dameso/v1/intent/want_chunk', encode(intent('node-2'))))).toBe('spoofed');
    expect(reasonOf(check.check(me, 'dameso/v1/reply/node-9', encode(reply('node-2'))))).toBe('spoofed');
    expect(reasonOf(check.check(me, 'dameso/v1/reply/node-9', encode(reply('node-1'))))).toBe('ok');
    expect(reasonOf(check.check(me, `dameso/v1/have/${CHUNK}/node-2`, encode(have('node-2'))))).toBe('spoofed');
    expect(reasonOf(check.check(me, `dameso/v1/have/${CHUNK}/node-2`, new Uint8Array(0)))).toBe('spoofed');
    expect(reasonOf(check.check(me, `dameso/v1/have/${CHUNK}/node-1`, new Uint8Array(0)))).toBe('ok');
    expect(reasonOf(check.check(me, 'dameso/v1/presence/node-1', new Uint8Array(0)))).toBe('ok');
    // Unbound clients (tools, other brokers' bridges) are checked for form only.
    expect(reasonOf(check.check('mqttjs_1', 'dameso/v1/intent/want_chunk', encode(intent('node-2'))))).toBe('ok');
    expect(reasonOf(check.check(null, 'dameso/v1/presence/node-2', encode(presence('node-2', { session: 9 }))))).toBe(
      'ok',
    );
  });

  it('an empty payload is a clear only on retained families', () => {
    const check = createEnvelopeCheck();
    expect(check.check(null, 'dameso/v1/presence/n', new Uint8Array(0))).toMatchObject({
      ok: true,
      message: { type: 'clear' },
    });
    expect(reasonOf(check.check(null, 'dameso/v1/intent/want_chunk', new Uint8Array(0)))).toBe('bad_cbor');
    expect(reasonOf(check.check(null, 'dameso/v1/reply/n', new Uint8Array(0)))).toBe('bad_cbor');
    expect(reasonOf(check.check(null, 'dameso/v1/presence/bad id', new Uint8Array(0)))).toBe('bad_id');
  });

  it('remembers the latest online session per node and drops older ones (Sparkplug bdSeq rule)', () => {
    const check = createEnvelopeCheck();
    expect(reasonOf(check.check(null, 'dameso/v1/presence/n', encode(presence('n', { session: 4 }))))).toBe('ok');
    expect(
      reasonOf(check.check(null, 'dameso/v1/presence/n', encode(presence('n', { session: 3, state: 'offline' })))),
    ).toBe('stale_session');
    expect(
      reasonOf(check.check(null, 'dameso/v1/presence/n', encode(presence('n', { session: 4, state: 'offline' })))),
    ).toBe('ok');
    expect(reasonOf(check.check(null, 'dameso/v1/intent/want_chunk', encode(intent('n', { session: 3 }))))).toBe(
      'stale_session',
    );
    expect(reasonOf(check.check(null, 'dameso/v1/intent/want_chunk', encode(intent('n', { session: 5 }))))).toBe('ok');
    expect(reasonOf(check.check(null, 'dameso/v1/reply/x', encode(reply('n', { session: 2 }))))).toBe('stale_session');
    // Unknown nodes are not judged.
    expect(reasonOf(check.check(null, 'dameso/v1/intent/want_chunk', encode(intent('m', { session: 0 }))))).toBe('ok');
  });

  it('takes a presence record only from the node’s own client id, even without auth', () => {
    const check = createEnvelopeCheck();
    const huge = encode(presence('n3', { session: Number.MAX_SAFE_INTEGER }));
    expect(reasonOf(check.check('attacker', 'dameso/v1/presence/n3', huge))).toBe('spoofed');
    expect(reasonOf(check.check('attacker', 'dameso/v1/presence/n3', new Uint8Array(0)))).toBe('spoofed');
    expect(check.trackedNodes()).toBe(0);
    expect(reasonOf(check.check('dameso.n3', 'dameso/v1/presence/n3', encode(presence('n3', { session: 2 }))))).toBe(
      'ok',
    );
    expect(reasonOf(check.check('dameso.n3', 'dameso/v1/reply/r', encode(reply('n3', { session: 2 }))))).toBe('ok');
  });

  it('believes the node’s own connection at once (a replaced board), and no late record of the old epoch', () => {
    const check = createEnvelopeCheck();
    const at = (epoch: number, session: number, state: 'online' | 'offline' = 'online') =>
      encode(presence('n3', { epoch, session, state }));
    expect(reasonOf(check.check('dameso.n3', 'dameso/v1/presence/n3', at(111, 3)))).toBe('ok');
    // The new board: an empty series, session 1 under a new epoch, over n3's own connection.
    expect(reasonOf(check.check('dameso.n3', 'dameso/v1/presence/n3', at(222, 1)))).toBe('ok');
    expect(
      reasonOf(check.check('dameso.n3', 'dameso/v1/reply/r', encode(reply('n3', { epoch: 222, session: 1 })))),
    ).toBe('ok');
    // The old board's Will, published late by the broker in the name of its closed client.
    expect(reasonOf(check.check('dameso.n3', 'dameso/v1/presence/n3', at(111, 3, 'offline'), true))).toBe(
      'stale_session',
    );
    expect(reasonOf(check.check(null, 'dameso/v1/presence/n3', at(111, 9, 'offline')))).toBe('stale_session');
    // A reply in the old epoch relayed by another client.
    expect(reasonOf(check.check('tool', 'dameso/v1/reply/r', encode(reply('n3', { epoch: 111, session: 3 }))))).toBe(
      'stale_session',
    );
    // The new board's own Will is of its epoch.
    expect(reasonOf(check.check('dameso.n3', 'dameso/v1/presence/n3', at(222, 1, 'offline'), true))).toBe('ok');
    // A record without epoch is of epoch 0 (protocol v1 peers).
    expect(reasonOf(check.check('dameso.v1', 'dameso/v1/presence/v1', encode(presence('v1', { session: 5 }))))).toBe(
      'ok',
    );
    expect(reasonOf(check.check(null, 'dameso/v1/intent/want_chunk', encode(intent('v1', { session: 5 }))))).toBe('ok');
    expect(
      reasonOf(check.check(null, 'dameso/v1/intent/want_chunk', encode(intent('v1', { epoch: 0, session: 4 })))),
    ).toBe('stale_session');
  });

  it('bounds the session table, forgetting the oldest node first', () => {
    const check = createEnvelopeCheck({ maxTrackedNodes: 2 });
    for (const n of ['a', 'b', 'c']) check.check(null, `dameso/v1/presence/${n}`, encode(presence(n, { session: 5 })));
    expect(check.trackedNodes()).toBe(2);
    expect(reasonOf(check.check(null, 'dameso/v1/intent/want_chunk', encode(intent('a', { session: 1 }))))).toBe('ok');
    expect(reasonOf(check.check(null, 'dameso/v1/intent/want_chunk', encode(intent('b', { session: 1 }))))).toBe(
      'stale_session',
    );
  });

  it('asks to clear the retain flag of intents and replies only', () => {
    const check = createEnvelopeCheck();
    expect(check.check(null, 'dameso/v1/intent/want_chunk', encode(intent()))).toMatchObject({ stripRetain: true });
    expect(check.check(null, 'dameso/v1/reply/a', encode(reply()))).toMatchObject({ stripRetain: true });
    expect(check.check(null, 'dameso/v1/presence/node-1', encode(presence()))).toMatchObject({ stripRetain: false });
  });
});

describe('envelope check: sync records (roster barrier)', () => {
  it('only the node itself may publish or clear its sync record', () => {
    const check = createEnvelopeCheck();
    const sync = encode({ v: 1, node: 'node-1', nonce: '01J', t: 0 });
    expect(reasonOf(check.check('dameso.node-1', 'dameso/v1/sync/node-1', sync))).toBe('ok');
    expect(reasonOf(check.check('dameso.node-2', 'dameso/v1/sync/node-1', sync))).toBe('spoofed');
    expect(reasonOf(check.check('dameso.node-2', 'dameso/v1/sync/node-1', new Uint8Array(0)))).toBe('spoofed');
    expect(reasonOf(check.check('dameso.node-1', 'dameso/v1/sync/node-1', new Uint8Array(0)))).toBe('ok');
    expect(reasonOf(check.check(null, 'dameso/v1/sync/node-1', encode({ v: 1, node: 'node-1', t: 0 })))).toBe(
      'bad_envelope',
    );
  });
});

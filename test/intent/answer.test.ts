import { beforeEach, describe, expect, test } from 'vitest';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import { AnswerSide } from '../../src/intent/answer.js';
import { NEUTRAL_LIM } from '../../src/intent/gate.js';
import type { Gate, IntentHandler } from '../../src/intent/types.js';
import { silentLogger } from '../../src/log.js';
import type { IntentEnvelope, ReplyEnvelope } from '../../src/protocol/types.js';
import type { EntryInput } from '../../src/series/types.js';
import { TableRoster } from '../helpers/node-roster.js';

let clock: ManualClock;
let calls: string[];
let replies: Array<[string, ReplyEnvelope]>;
let entries: EntryInput[];
let gateSays: 'yes' | 'tight' | 'no';
let side: AnswerSide;
let release: () => void = () => {};
const LOW = { ...NEUTRAL_LIM, w_tracking: 0.1 };
const PRESSED = { ...NEUTRAL_LIM, cpu: 0.5 };

const gate: Gate = {
  intentSeen: () => calls.push('seen'),
  decide: () => {
    calls.push('decide');
    if (gateSays === 'yes') return { answer: { r: 'yes' }, lim: NEUTRAL_LIM, tight: false };
    if (gateSays === 'tight') return { answer: { r: 'yes' }, lim: PRESSED, tight: true };
    return { answer: { r: 'no', reason: 'rate_limited', retry: 50 }, lim: LOW, tight: true };
  },
};
const intent = (over: Partial<IntentEnvelope> = {}): IntentEnvelope => ({
  v: 1,
  id: `i${Math.random()}`,
  from: 'req',
  session: 2,
  kind: 'want_chunk',
  t: 0,
  deadline: 100,
  subject: 'have-it',
  ...over,
});
const flush = () => new Promise((r) => setImmediate(r));

beforeEach(() => {
  clock = createManualClock();
  calls = [];
  replies = [];
  entries = [];
  gateSays = 'yes';
  const roster = new TableRoster();
  roster.set('req', 2, true, []);
  side = new AnswerSide({
    self: 'me',
    session: () => 9,
    roster,
    gate,
    publishReply: (to, e) => replies.push([to, e]),
    record: (e) => {
      entries.push(e);
    },
    clock,
    log: silentLogger,
  });
  const handler: IntentHandler = {
    kind: 'want_chunk',
    role: 'bt',
    relevant: (i) => {
      calls.push('relevant');
      return i.envelope.subject !== 'not-held';
    },
    handle: (i) => {
      calls.push('handle');
      if (i.envelope.subject === 'boom') throw new Error('handler bug');
      return { r: 'yes', data: 'bytes' };
    },
  };
  side.serve(handler);
  side.serve({
    kind: 'want_chunks',
    role: 'bt',
    handle: () =>
      new Promise((resolve) => {
        release = () => resolve({ r: 'yes', data: [] });
      }),
  });
});

describe('answer side', () => {
  test('order: intentSeen → relevant → decide → handle → reply; the decision is recorded with lim', async () => {
    const e = intent();
    side.onIntent(e, 77);
    expect(calls).toEqual(['seen', 'relevant', 'decide', 'handle']);
    // A YES on the fast path carries no lim on the wire; the series keeps it.
    expect(replies).toEqual([['req', { v: 1, id: e.id, from: 'me', session: 9, r: 'yes', data: 'bytes' }]]);
    await flush();
    expect(entries).toEqual([
      {
        event: 'decision',
        id: e.id,
        kind: 'want_chunk',
        from: 'req',
        r: 'yes',
        lim: NEUTRAL_LIM,
        outcome: 'yes',
        subject: 'have-it',
      },
    ]);
  });

  test('not relevant: silence without consulting the gate; gate NO: NO with reason, retry and lim', async () => {
    side.onIntent(intent({ subject: 'not-held' }), 10);
    expect(calls).toEqual(['seen', 'relevant']);
    expect(replies).toEqual([]);
    gateSays = 'no';
    const e = intent();
    side.onIntent(e, 10);
    expect(replies[0]?.[1]).toMatchObject({ r: 'no', reason: 'rate_limited', retry: 50, lim: LOW });
    expect(calls.filter((c) => c === 'handle')).toHaveLength(0);
    await flush();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ r: 'no', reason: 'rate_limited', lim: LOW, outcome: 'no' });
  });

  test('a YES given under pressure carries lim (the congestion signal) when it is news to the requester; the series has it every time', async () => {
    gateSays = 'tight';
    const e = intent();
    side.onIntent(e, 10);
    expect(replies[0]?.[1]).toEqual({ v: 1, id: e.id, from: 'me', session: 9, r: 'yes', data: 'bytes', lim: PRESSED });
    // The same values again, to the same requester: not news.
    side.onIntent(intent(), 10);
    expect(replies[1]?.[1].r).toBe('yes');
    expect(replies[1]?.[1].lim).toBeUndefined();
    // After the refresh interval they are told again (a lost QoS 0 reply must not leave it stale).
    clock.advance(1_000);
    side.onIntent(intent(), 10);
    expect(replies[2]?.[1].lim).toEqual(PRESSED);
    // The pressure is over: one YES says so, the next goes without.
    gateSays = 'yes';
    side.onIntent(intent(), 10);
    side.onIntent(intent(), 10);
    expect(replies.slice(3).map(([, r]) => r.lim)).toEqual([NEUTRAL_LIM, undefined]);
    await flush();
    expect(entries.map((x) => x.lim)).toEqual([PRESSED, PRESSED, PRESSED, NEUTRAL_LIM, NEUTRAL_LIM]);
  });

  test('a throwing handler is NO bad_request, counted, and the node keeps answering', () => {
    side.onIntent(intent({ subject: 'boom' }), 10);
    side.onIntent(intent(), 10);
    expect(replies.map(([, r]) => r.r)).toEqual(['no', 'yes']);
    expect(replies[0]?.[1].reason).toBe('bad_request');
    expect(side.stats().handlerErrors).toBe(1);
  });

  test('addressed to others, sent by itself, or from an older session: ignored', () => {
    side.onIntent(intent({ to: ['x', 'y'] }), 10);
    side.onIntent(intent({ from: 'me' }), 10);
    side.onIntent(intent({ session: 1 }), 10);
    expect(replies).toEqual([]);
    expect(side.stats()).toMatchObject({ notForMe: 2, staleSession: 1, received: 0 });
    side.onIntent(intent({ to: ['x', 'me'] }), 10);
    expect(replies).toHaveLength(1);
  });

  test('deadline measured from receipt: an answer ready after it is not sent', async () => {
    side.onIntent(intent({ kind: 'want_chunks', deadline: 100 }), 10);
    clock.advance(101); // the handler took longer than the deadline
    release();
    await flush();
    expect(replies).toEqual([]);
    expect(side.stats().expired).toBe(1);
  });
});

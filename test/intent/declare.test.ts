import { beforeEach, describe, expect, test } from 'vitest';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import { KIND_ROLES, MAX_REMEMBERED_INTENTS } from '../../src/intent/constants.js';
import { DeclareSide } from '../../src/intent/declare.js';
import { IntentTableFullError, UnknownKindError } from '../../src/intent/errors.js';
import { silentLogger } from '../../src/log.js';
import type { IntentEnvelope, ReplyEnvelope } from '../../src/protocol/types.js';
import type { EntryInput } from '../../src/series/types.js';
import { TableRoster } from '../helpers/node-roster.js';

let clock: ManualClock;
let roster: TableRoster;
let sent: IntentEnvelope[];
let entries: EntryInput[];
let side: DeclareSide;

const reply = (id: string, from: string, r: 'yes' | 'no' = 'yes', session = 1): ReplyEnvelope =>
  r === 'yes' ? { v: 1, id, from, session, r } : { v: 1, id, from, session, r, reason: 'rate_limited' };
const flush = () => new Promise((r) => setImmediate(r));

beforeEach(() => {
  clock = createManualClock();
  roster = new TableRoster();
  sent = [];
  entries = [];
  side = new DeclareSide({
    self: 'me',
    session: () => 4,
    roster,
    publishIntent: (e) => sent.push(e),
    record: (e) => {
      entries.push(e);
    },
    kindRoles: (k) => KIND_ROLES[k],
    clock,
    log: silentLogger,
    maxPending: 3,
    lateKeepMs: 1_000,
  });
  side.start();
  for (const n of ['a', 'b', 'c']) roster.set(n, 1, true, ['bt']);
  roster.set('m', 1, true, ['mapper']);
  roster.set('gone', 1, false, ['bt']);
  roster.set('me', 4, true, ['bt']);
});

/** A second declare side on the same roster that publishes and records nothing (one behaviour under test). */
function quietSide(extra: Partial<ConstructorParameters<typeof DeclareSide>[0]> = {}): DeclareSide {
  return new DeclareSide({
    self: 'me',
    session: () => 4,
    roster,
    publishIntent: () => undefined,
    record: () => undefined,
    kindRoles: (k) => KIND_ROLES[k],
    clock,
    log: silentLogger,
    ...extra,
  });
}

describe('declare side', () => {
  test('expected = online ∩ role ∩ to, minus self; envelope as the wire says', () => {
    const i = side.declare('want_chunk', { subject: 's', to: ['a', 'c', 'm', 'gone'], deadlineMs: 500 });
    expect([...i.expected].sort()).toEqual(['a', 'c']);
    expect(sent[0]).toMatchObject({
      v: 1,
      id: i.id,
      from: 'me',
      session: 4,
      kind: 'want_chunk',
      deadline: 500,
      subject: 's',
      to: ['a', 'c', 'm', 'gone'],
    });
    expect(side.declare('want_observations').expected).toEqual(['m']);
  });

  test('closes when every expected node answered or went offline, before the deadline', async () => {
    const i = side.declare('want_chunk', { deadlineMs: 10_000 });
    side.onReply(reply(i.id, 'a'));
    side.onReply(reply(i.id, 'b', 'no'));
    clock.advance(7);
    roster.set('c', 1, false); // its offline record, same session
    const o = await i;
    expect(o.closedBy).toBe('all_answered');
    expect(o.yes.map((r) => r.envelope.from)).toEqual(['a']);
    expect(o.no.map((r) => r.envelope.reason)).toEqual(['rate_limited']);
    expect(o.offline).toEqual(['c']);
    expect(o.silence).toEqual([]);
    expect(o.elapsedMs).toBe(7);
    await flush();
    expect(entries.at(-1)).toMatchObject({
      event: 'intent_outcome',
      id: i.id,
      offline: ['c'],
      closedBy: 'all_answered',
      ms: 7,
    });
  });

  test('deadline on the monotonic clock: the rest is silence; wall-clock jumps do not matter', async () => {
    const i = side.declare('want_chunk', { deadlineMs: 300 });
    side.onReply(reply(i.id, 'a'));
    clock.setWall(0); // NTP jump backwards
    clock.advance(299);
    let closed = false;
    void i.then(() => {
      closed = true;
    });
    await flush();
    expect(closed).toBe(false);
    clock.advance(1);
    const o = await i;
    expect(o.closedBy).toBe('deadline');
    expect(o.silence.sort()).toEqual(['b', 'c']);
  });

  test('deadlines of different lengths share one timer: each intent closes at its own deadline, never before', async () => {
    const long = side.declare('want_chunk', { deadlineMs: 500 });
    const short = side.declare('want_chunk', { deadlineMs: 100 }); // earlier than the armed one
    const closedAt = new Map<string, number>();
    for (const [name, i] of [
      ['long', long],
      ['short', short],
    ] as const) {
      void i.then(() => closedAt.set(name, clock.monotonic()));
    }
    clock.advance(99);
    await flush();
    expect(closedAt.size).toBe(0);
    clock.advance(1);
    await flush();
    expect(closedAt.get('short')).toBe(100);
    const later = side.declare('want_chunk', { deadlineMs: 100 }); // declared at 100, due at 200
    void later.then(() => closedAt.set('later', clock.monotonic()));
    clock.advance(99);
    await flush();
    expect(closedAt.has('later')).toBe(false);
    clock.advance(301);
    const outcomes = await Promise.all([short, later, long]);
    // elapsedMs is measured at close: each closed exactly at its own deadline
    expect(outcomes.map((o) => [o.closedBy, o.elapsedMs])).toEqual([
      ['deadline', 100],
      ['deadline', 100],
      ['deadline', 500],
    ]);
    expect(clock.pendingTimers()).toBe(0); // nothing left open: no timer re-armed
  });

  test('a deadline timer that fires early (loop time behind the monotonic clock) re-arms instead of closing early', async () => {
    // Real timers count from the loop's cached ms: model one that fires 1 ms early (never under 1 ms, as in Node).
    const early = { ...clock, setTimeout: (fn: () => void, ms: number) => clock.setTimeout(fn, Math.max(1, ms - 1)) };
    const s2 = quietSide({ clock: early });
    const i = s2.declare('want_chunk', { deadlineMs: 100 });
    let closed = false;
    void i.then(() => {
      closed = true;
    });
    clock.advance(99); // the early timer fired here
    await flush();
    expect(closed).toBe(false);
    clock.advance(1);
    expect((await i).elapsedMs).toBe(100);
  });

  test('unexpected replies count; duplicates and older sessions do not; late replies are kept for a while', async () => {
    roster.set('a', 2, true);
    const i = side.declare('want_chunk', { deadlineMs: 100 });
    side.onReply(reply(i.id, 'a', 'yes', 1)); // older session than the roster's: stale or spoofed
    side.onReply(reply(i.id, 'a', 'yes', 2));
    side.onReply(reply(i.id, 'a', 'no', 2)); // duplicate
    side.onReply(reply(i.id, 'zed')); // not expected
    clock.advance(100);
    const o = await i;
    expect(o.yes.map((r) => [r.envelope.from, r.unexpected])).toEqual([
      ['a', false],
      ['zed', true],
    ]);
    expect(o.silence.sort()).toEqual(['b', 'c']);
    clock.advance(50);
    side.onReply(reply(i.id, 'b')); // expected, silent at close: late
    side.onReply(reply(i.id, 'b')); // again: duplicate
    side.onReply(reply(i.id, 'zed')); // replied before close: duplicate
    side.onReply(reply(i.id, 'yy')); // never expected, first reply: late and unexpected
    expect(o.late.map((r) => [r.envelope.from, r.latencyMs, r.unexpected])).toEqual([
      ['b', 150, false],
      ['yy', 150, true],
    ]);
    clock.advance(2_000); // past lateKeepMs: forgotten
    side.onReply(reply(i.id, 'c'));
    expect(o.late).toHaveLength(2);
    expect(side.stats()).toMatchObject({ staleSession: 1, duplicates: 3, late: 2, unknown: 1 });
    await flush();
    expect(entries.some((e) => e.event === 'intent_late' && e.node === 'b')).toBe(true);
  });

  test('a reply must be of the roster’s epoch and not of an older session; the intent carries our epoch', async () => {
    const s2 = quietSide({ epoch: () => 77 });
    const sentByS2: IntentEnvelope[] = [];
    const s3 = quietSide({ epoch: () => 77, publishIntent: (e) => sentByS2.push(e) });
    s3.declare('want_chunk', { to: ['a'] });
    expect(sentByS2[0]?.epoch).toBe(77);
    side.declare('want_chunk', { to: ['b'] });
    expect(sent[0] !== undefined && 'epoch' in sent[0]).toBe(false); // epoch 0 is not sent
    roster.set('a', 3, true, ['bt'], 5);
    const i = s2.declare('want_chunk', { to: ['a'] });
    s2.onReply({ ...reply(i.id, 'a', 'yes', 2), epoch: 5 }); // an older session of the same incarnation
    s2.onReply(reply(i.id, 'a', 'yes', 4)); // no epoch (0): not the roster's incarnation
    expect(s2.stats().staleSession).toBe(2);
    roster.set('a', 1, true, ['bt'], 9); // a replaced board announced itself: session 1 of epoch 9
    s2.onReply({ ...reply(i.id, 'a', 'yes', 1), epoch: 9 });
    const o = await i;
    expect(o.yes.map((r) => [r.envelope.session, r.envelope.epoch])).toEqual([[1, 9]]);
  });

  test('closed intents are remembered for late replies up to MAX_REMEMBERED_INTENTS, oldest forgotten first, then for lateKeepMs', async () => {
    const s2 = quietSide({ lateKeepMs: 60_000 });
    // No expected node: each closes at once, so only the bound forgets (no time passes).
    const outcomes = [];
    for (let n = 0; n < MAX_REMEMBERED_INTENTS + 100; n++) outcomes.push(s2.declare('want_chunk', { to: ['nobody'] }));
    const ids = outcomes.map((o) => o.id);
    s2.onReply(reply(ids[99] as string, 'a')); // past the bound: forgotten
    s2.onReply(reply(ids[100] as string, 'a')); // the oldest kept
    s2.onReply(reply(ids[ids.length - 1] as string, 'a'));
    expect(s2.stats()).toMatchObject({ unknown: 1, late: 2 });
    expect((await outcomes[100])?.late.map((r) => r.envelope.from)).toEqual(['a']);
    clock.advance(60_001);
    s2.onReply(reply(ids[ids.length - 1] as string, 'b')); // keep time over
    expect(s2.stats()).toMatchObject({ unknown: 2, late: 2 });
  });

  test('async iteration yields each reply as it comes and ends at close', async () => {
    const i = side.declare('want_chunk', { deadlineMs: 100 });
    const got: string[] = [];
    const done = (async () => {
      for await (const r of i) got.push(r.envelope.from);
    })();
    side.onReply(reply(i.id, 'b'));
    await flush();
    expect(got).toEqual(['b']);
    side.onReply(reply(i.id, 'a'));
    clock.advance(100);
    await done;
    expect(got).toEqual(['b', 'a']);
  });

  test('no expected node: closes at once; pending table bounded; typed errors', async () => {
    const none = await side.declare('want_chunk', { to: ['nobody'] });
    expect(none).toMatchObject({ expected: [], closedBy: 'all_answered' });
    side.declare('want_chunk');
    side.declare('want_chunk');
    side.declare('want_chunk');
    expect(() => side.declare('want_chunk')).toThrow(IntentTableFullError);
    expect(() => side.declare('fly_kite')).toThrow(UnknownKindError);
    expect(() => side.declare('want_chunk', { deadlineMs: 0 })).toThrow(/deadline/);
    side.stop();
    expect(side.stats().pending).toBe(0);
  });
});

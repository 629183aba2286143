import { describe, expect, test } from 'vitest';
import { NEUTRAL_LIM } from '../../src/intent/gate.js';
import { LimTold } from '../../src/intent/lim-told.js';

const TIGHT = Object.freeze({ ...NEUTRAL_LIM, cpu: 0.5 });
const TIGHTER = Object.freeze({ ...NEUTRAL_LIM, cpu: 0.4 });

describe('LimTold: a YES carries lim only when it is news to that requester', () => {
  test('tight values: told once, then not again while unchanged, again when they change', () => {
    const t = new LimTold();
    expect(t.onYes('a', 1, TIGHT, true, 0)).toBe(true);
    expect(t.onYes('a', 1, TIGHT, true, 10)).toBe(false);
    // Equal values in another object are not news either.
    expect(t.onYes('a', 1, { ...TIGHT }, true, 20)).toBe(false);
    expect(t.onYes('a', 1, TIGHTER, true, 30)).toBe(true);
    expect(t.onYes('a', 1, TIGHTER, true, 40)).toBe(false);
    // Each requester has its own memory.
    expect(t.onYes('b', 1, TIGHTER, true, 40)).toBe(true);
  });

  test('plenty is news only to a requester that was told tight values', () => {
    const t = new LimTold();
    expect(t.onYes('a', 1, NEUTRAL_LIM, false, 0)).toBe(false); // never told: already believes plenty
    expect(t.onYes('a', 1, TIGHT, true, 1)).toBe(true);
    expect(t.onYes('a', 1, NEUTRAL_LIM, false, 2)).toBe(true); // the pressure is over: say so, once
    expect(t.onYes('a', 1, NEUTRAL_LIM, false, 3)).toBe(false);
    expect(t.size()).toBe(0);
    expect(t.onYes('a', 1, TIGHT, true, 4)).toBe(true);
  });

  test('unchanged values are told again after the refresh interval (a QoS 0 reply may have been lost)', () => {
    const t = new LimTold({ refreshMs: 1000 });
    expect(t.onYes('a', 1, TIGHT, true, 0)).toBe(true);
    expect(t.onYes('a', 1, TIGHT, true, 999)).toBe(false);
    expect(t.onYes('a', 1, TIGHT, true, 1000)).toBe(true);
    expect(t.onYes('a', 1, TIGHT, true, 1500)).toBe(false);
  });

  test("a requester's new session forgot what it was told", () => {
    const t = new LimTold();
    expect(t.onYes('a', 1, TIGHT, true, 0)).toBe(true);
    expect(t.onYes('a', 2, TIGHT, true, 1)).toBe(true);
    expect(t.onYes('a', 2, TIGHT, true, 2)).toBe(false);
    // A requester restarted into a new session that sees plenty believes plenty already.
    expect(t.onYes('a', 3, NEUTRAL_LIM, false, 3)).toBe(false);
  });

  test('a NO always carries lim, and the requester then believes those values', () => {
    const t = new LimTold();
    t.onNo('a', 1, TIGHT, 0);
    expect(t.onYes('a', 1, TIGHT, true, 1)).toBe(false);
    expect(t.onYes('a', 1, NEUTRAL_LIM, false, 2)).toBe(true);
  });

  test('the table is bounded: the requester told longest ago is forgotten (and told again)', () => {
    const t = new LimTold({ maxRequesters: 3 });
    for (const r of ['a', 'b', 'c']) t.onYes(r, 1, TIGHT, true, 0);
    expect(t.onYes('a', 1, TIGHTER, true, 1)).toBe(true); // a is now the most recent
    expect(t.onYes('d', 1, TIGHT, true, 2)).toBe(true); // pushes out b
    expect(t.size()).toBe(3);
    expect(t.onYes('b', 1, TIGHT, true, 3)).toBe(true); // forgotten: told again
    expect(t.onYes('a', 1, TIGHTER, true, 4)).toBe(false);
  });
});

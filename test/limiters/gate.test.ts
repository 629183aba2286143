import { describe, expect, it } from 'vitest';
import { loadBoard } from '../../devices/boards/index.js';
import { createManualClock } from '../../src/clock.js';
import type { ReceivedIntent } from '../../src/intent/types.js';
import { createNodeLimiters } from '../../src/limiters/create.js';

const intent = (i: number, subject = `c${i}`, kind = 'want_chunk'): ReceivedIntent => ({
  envelope: { v: 1, id: `i${i}`, from: 'req', session: 1, kind, t: 0, deadline: 1000, subject },
  bytes: 60,
  receivedAt: 0,
});

describe('limiter gate', () => {
  it('a storm past capacity gets NO rate_limited with a retry hint; YES again after the window', () => {
    const clock = createManualClock();
    const board = loadBoard('pi-zero-2w');
    const cap = board.intents.capacityPerWindow;
    const yes = Math.floor(cap * (1 - board.thresholds.rateLimitedBelow));
    const l = createNodeLimiters({ board, clock });
    const gate = l.gate;
    const answers: string[] = [];
    for (let i = 0; i < 10 * cap; i++) {
      gate.intentSeen(intent(i));
      const d = gate.decide(intent(i));
      answers.push(d.answer.r === 'yes' ? 'yes' : d.answer.reason);
      if (d.answer.r === 'no') {
        expect(d.answer.reason).toBe('rate_limited');
        expect(d.answer.retry).toBeGreaterThan(0);
        expect(d.answer.retry).toBeLessThanOrEqual(board.intents.windowMs);
        expect(d.lim.w_tracking).toBeLessThan(0.3);
      }
    }
    // YES while the window holds up to 0.7 × capacity, then NO for the rest of the storm
    expect(answers.filter((a) => a === 'yes').length).toBe(yes);
    expect(answers.slice(yes).every((a) => a === 'rate_limited')).toBe(true);
    expect(gate.stats()).toMatchObject({ seen: 10 * cap, yes, no: { rate_limited: 10 * cap - yes } });
    expect(l.limiters.w_tracking.buckets).toBe(20); // the window table stays this size
    const retry = gate.decide(intent(0)).answer;
    clock.advance(retry.r === 'no' ? (retry.retry ?? 0) : 0);
    gate.intentSeen(intent(9999));
    expect(gate.decide(intent(9999)).answer).toEqual({ r: 'yes' });
  });

  it('lim carries every value rounded to 4 decimals', () => {
    const clock = createManualClock();
    const l = createNodeLimiters({ clock, usedBytes: () => 1 / 3 });
    const d = l.gate.decide(intent(1));
    expect(Object.keys(d.lim).sort()).toEqual(['cpu', 'economic', 'memory', 'objective', 'topology', 'w_tracking']);
    for (const v of Object.values(d.lim)) expect(Math.round(v * 1e4) / 1e4).toBe(v);
  });

  it('config thresholds override the board', () => {
    const clock = createManualClock();
    const l = createNodeLimiters({
      clock,
      usedBytes: () => 0.5 * loadBoard().storage.budgetBytes,
      thresholds: { storageFullBelow: 0.6, yesAbove: 0.7 },
    });
    expect(l.gate.decide(intent(1, 'c1', 'store_chunk')).answer).toEqual({ r: 'no', reason: 'storage_full' });
    // A read consumes no storage: the same node serves it (rate, cpu, memory still apply).
    expect(l.gate.decide(intent(2, 'c2', 'want_chunk')).answer).toEqual({ r: 'yes' });
  });

  it('reuses one frozen lim while the values hold, and still decides per intent: a budget spent at the same instant refuses the next', () => {
    const clock = createManualClock();
    const board = loadBoard();
    let used = 0;
    const l = createNodeLimiters({ board, clock, usedBytes: () => used });
    const first = l.gate.decide(intent(1, 'c1', 'store_chunk'));
    const second = l.gate.decide(intent(2, 'c2', 'store_chunk'));
    expect(first.answer).toEqual({ r: 'yes' });
    expect(second.lim).toBe(first.lim);
    expect(second).toBe(first); // the same YES decision, frozen
    expect(Object.isFrozen(first.lim) && Object.isFrozen(first)).toBe(true);
    // The storage budget is spent by the previous store (no clock tick in between): the next store is
    // refused on that very value, recorded in a new lim; the old one keeps what it was decided on.
    used = 0.9 * board.storage.budgetBytes;
    const full = l.gate.decide(intent(3, 'c3', 'store_chunk'));
    expect(full.answer).toEqual({ r: 'no', reason: 'storage_full' });
    expect(full.lim).not.toBe(first.lim);
    expect(full.lim.economic).toBe(0.1);
    expect(first.lim.economic).toBe(1);
    expect(l.gate.decide(intent(4, 'c4', 'store_chunk')).lim).toBe(full.lim);
    // tight = some value at or below yesAbove: what puts `lim` on a YES reply (answer.ts).
    expect(first.tight).toBe(false);
    expect(full.tight).toBe(true);
    const servedWhileFull = l.gate.decide(intent(5, 'c5', 'want_chunk'));
    expect(servedWhileFull).toMatchObject({ answer: { r: 'yes' }, tight: true });
    // The same values said YES to a read: a store on them is still refused (the cost differs).
    expect(l.gate.decide(intent(6, 'c6', 'store_chunk')).answer).toEqual({ r: 'no', reason: 'storage_full' });
    expect(l.gate.decide(intent(7, 'c7', 'want_chunk'))).toBe(servedWhileFull);
  });
});

import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import type { ReceivedIntent } from '../../src/intent/types.js';
import { createObjective } from '../../src/limiters/objective.js';
import { createTopology } from '../../src/limiters/topology.js';

const intent = (subject?: string): ReceivedIntent => ({
  envelope: { v: 1, id: 'i', from: 'a', session: 1, kind: 'want_chunk', t: 0, deadline: 1000, subject },
  bytes: 50,
  receivedAt: 0,
});

describe('objective', () => {
  it('a subject asked over and over loses objective; others keep it; it recovers after two windows', () => {
    const clock = createManualClock();
    const o = createObjective({ clock, popularityCap: 10, windowMs: 1000 });
    for (let i = 0; i < 5; i++) o.record('hot');
    expect(o.value(intent('hot'))).toBeCloseTo(0.5);
    expect(o.value(intent('cold'))).toBe(1);
    expect(o.value(intent())).toBe(1);
    clock.advance(1000);
    expect(o.asks('hot')).toBe(5); // previous generation still counts
    clock.advance(1000);
    expect(o.asks('hot')).toBe(0);
  });

  it('heldShare lowers it', () => {
    const o = createObjective({ clock: createManualClock(), heldShare: () => 0.9 });
    expect(o.value(intent('x'))).toBeCloseTo(0.1);
  });

  it('tracks at most maxSubjects per generation', () => {
    const clock = createManualClock();
    const o = createObjective({ clock, maxSubjects: 100, windowMs: 1000 });
    for (let i = 0; i < 10_000; i++) o.record(`s${i}`);
    expect(o.tracked()).toBe(100);
    clock.advance(1000);
    for (let i = 0; i < 10_000; i++) o.record(`t${i}`);
    expect(o.tracked()).toBe(200);
  });
});

describe('topology', () => {
  it('share of known peers online and broker round trip, the tighter wins', () => {
    let peers = { online: 3, known: 4 };
    let rtt: number | undefined;
    const t = createTopology({ peers: () => peers, brokerRttMs: () => rtt, rttBudgetMs: 100 });
    expect(t.value()).toBeCloseTo(0.75);
    rtt = 50;
    expect(t.value()).toBeCloseTo(0.5);
    peers = { online: 0, known: 0 };
    rtt = undefined;
    expect(t.value()).toBe(1);
    expect(createTopology().value()).toBe(1);
  });
});

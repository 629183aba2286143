/**
 * What the requester saw: intents declared and closed, the per-peer outcome mix, reply latencies,
 * and the intents whose counts do not add up (more answers than expected peers).
 */
import type { Outcome } from '../intent/types.js';
import { LatencyReservoir } from '../reservoir.js';
import { roundTo } from '../round-to.js';

/** Latencies kept for percentiles (the newest ones). */
const RESERVOIR = 20_000;

export interface TallySnapshot {
  declared: number;
  closed: number;
  open: number;
  expected: number;
  yes: number;
  no: number;
  /** NO answers by reason (`rate_limited`, `cpu_busy`, `bad_request`, …). */
  noBy: Record<string, number>;
  silence: number;
  offline: number;
  unexpected: number;
  replyP50Ms: number;
  replyP99Ms: number;
  /** Intents whose yes+no+silence+offline (expected peers only) exceed their expected peers. */
  overCounted: number;
  /** Per outcome, ms: YES and NO replies from declaring to arrival; the close of intents with silence. */
  latencyMs: { yes: Percentiles; no: Percentiles; closeWithSilence: Percentiles };
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  count: number;
}

export class Tally {
  readonly closedIds = new Set<string>();
  private s = { declared: 0, expected: 0, yes: 0, no: 0, silence: 0, offline: 0, unexpected: 0, overCounted: 0 };
  private readonly noBy: Record<string, number> = {};
  private readonly latencies = new LatencyReservoir(RESERVOIR);
  private readonly byOutcome = {
    yes: new LatencyReservoir(RESERVOIR),
    no: new LatencyReservoir(RESERVOIR),
    closeWithSilence: new LatencyReservoir(RESERVOIR),
  };
  private readonly counts = { yes: 0, no: 0, closeWithSilence: 0 };

  declared(): void {
    this.s.declared++;
  }

  closed(outcome: Outcome): void {
    this.closedIds.add(outcome.id);
    const replies = [...outcome.yes, ...outcome.no];
    const fromExpected = replies.filter((r) => !r.unexpected);
    this.s.expected += outcome.expected.length;
    this.s.yes += outcome.yes.filter((r) => !r.unexpected).length;
    this.s.no += outcome.no.filter((r) => !r.unexpected).length;
    for (const r of outcome.no) {
      if (r.unexpected) continue; // as `no` counts: expected peers only, so the reasons add up to it
      const reason = r.envelope.reason ?? '?';
      this.noBy[reason] = (this.noBy[reason] ?? 0) + 1;
    }
    this.s.unexpected += replies.length - fromExpected.length;
    this.s.silence += outcome.silence.length;
    this.s.offline += outcome.offline.length;
    if (fromExpected.length + outcome.silence.length + outcome.offline.length > outcome.expected.length)
      this.s.overCounted++;
    for (const r of replies) this.latencies.push(r.latencyMs);
    this.keep(
      'yes',
      outcome.yes.map((r) => r.latencyMs),
    );
    this.keep(
      'no',
      outcome.no.map((r) => r.latencyMs),
    );
    if (outcome.silence.length > 0) this.keep('closeWithSilence', [outcome.elapsedMs]);
  }

  private keep(outcome: keyof Tally['byOutcome'], ms: readonly number[]): void {
    for (const x of ms) this.byOutcome[outcome].push(x);
    this.counts[outcome] += ms.length;
  }

  private percentiles(outcome: keyof Tally['byOutcome']): Percentiles {
    const r = this.byOutcome[outcome];
    const p = (q: number): number => (this.counts[outcome] === 0 ? 0 : roundTo(r.pct(q)));
    return { p50: p(50), p90: p(90), p99: p(99), p999: p(99.9), count: this.counts[outcome] };
  }

  private pct(p: number): number {
    return roundTo(this.latencies.pct(p));
  }

  snapshot(): TallySnapshot {
    const closed = this.closedIds.size;
    return {
      declared: this.s.declared,
      closed,
      open: this.s.declared - closed,
      expected: this.s.expected,
      yes: this.s.yes,
      no: this.s.no,
      noBy: { ...this.noBy },
      silence: this.s.silence,
      offline: this.s.offline,
      unexpected: this.s.unexpected,
      replyP50Ms: this.pct(50),
      replyP99Ms: this.pct(99),
      overCounted: this.s.overCounted,
      latencyMs: {
        yes: this.percentiles('yes'),
        no: this.percentiles('no'),
        closeWithSilence: this.percentiles('closeWithSilence'),
      },
    };
  }
}

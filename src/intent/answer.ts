/**
 * The answer side: for each served kind, `gate.intentSeen` → `relevant()` (false: silence) →
 * `gate.decide()` (NO with reason and `lim`) → `handle()` → reply. Each gate decision is written to
 * the series (`decision`) with the limiter values. The deadline is measured from receipt
 * (clocks are not shared: docs/protocol.md §7), and nothing is sent after it.
 *
 * `lim` on the wire is a congestion signal, sent when it says something (ECN's habit: mark when
 * congested, not every packet): with every NO (the values behind the refusal), and with a YES
 * given under pressure (some value at or below `yesAbove`, `GateDecision.tight`) when the values
 * are news to that requester (lim-told.ts). A YES on the fast path (every value above `yesAbove`)
 * says "plenty" by itself and goes without: `lim` is a large share of a reply, and encoding it,
 * checking it at the broker and validating it at the requester cost CPU on every intent
 * (docs/design-notes.md "`lim` rides on a reply"). The series keeps the values of
 * every decision either way.
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Roster } from '../presence/index.js';
import {
  type IntentEnvelope,
  isStaleSession,
  type LimiterValues,
  NO_EPOCH,
  type NoReason,
  type ReplyEnvelope,
  stampEpoch,
} from '../protocol/index.js';
import type { EntryInput } from '../series/index.js';
import { MAX_IN_FLIGHT_ANSWERS, OVERLOAD_RETRY_MS } from './constants.js';
import { LimTold } from './lim-told.js';
import type { Answer, Gate, GateDecision, IntentHandler, ReceivedIntent } from './types.js';

export interface AnswerSideDeps {
  self: string;
  session: () => number;
  /** This node's incarnation, sent beside the session (protocol/incarnation.ts). Default 0. */
  epoch?: () => number;
  roster: Roster;
  gate: Gate;
  /** Fire-and-forget publish of a reply to `R/reply/{to}` (QoS 0). */
  publishReply: (to: string, env: ReplyEnvelope) => void;
  /** Writes an entry without waiting for its commit and never throws (`recorder`, series/recorder.ts). */
  record: (entry: EntryInput) => void;
  clock: Clock;
  log: Logger;
  /** Intents being handled at once. Default `MAX_IN_FLIGHT_ANSWERS`. */
  maxInFlight?: number;
}

export interface AnswerStats {
  received: number;
  /** Addressed with `to` not containing this node, or sent by itself. */
  notForMe: number;
  irrelevant: number;
  yes: number;
  no: number;
  silence: number;
  /** Handlers that threw (answered NO bad_request). */
  handlerErrors: number;
  /** Answers ready after the deadline: not sent. */
  expired: number;
  /** Intents whose sender's session is older than the roster's (stale or spoofed). */
  staleSession: number;
  overload: number;
}

export class AnswerSide {
  private readonly handlers = new Map<string, IntentHandler>();
  private inFlight = 0;
  private readonly maxInFlight: number;
  private readonly counters: AnswerStats = {
    received: 0,
    notForMe: 0,
    irrelevant: 0,
    yes: 0,
    no: 0,
    silence: 0,
    handlerErrors: 0,
    expired: 0,
    staleSession: 0,
    overload: 0,
  };

  /** What each requester was last told of `lim` (a YES repeats it only when it is news). */
  private readonly limTold = new LimTold();

  constructor(private readonly deps: AnswerSideDeps) {
    this.maxInFlight = deps.maxInFlight ?? MAX_IN_FLIGHT_ANSWERS;
  }

  /** Serve a kind (the caller checks the role). */
  serve(handler: IntentHandler): void {
    this.handlers.set(handler.kind, handler);
  }

  kinds(): string[] {
    return [...this.handlers.keys()];
  }

  stats(): AnswerStats {
    return { ...this.counters };
  }

  /** A validated intent envelope received on a served kind. */
  onIntent(envelope: IntentEnvelope, bytes: number): void {
    const { deps } = this;
    const receivedAt = deps.clock.monotonic();
    const handler = this.handlers.get(envelope.kind);
    if (handler === undefined) return;
    if (envelope.from === deps.self || (envelope.to !== undefined && !envelope.to.includes(deps.self))) {
      this.counters.notForMe++;
      return;
    }
    const known = deps.roster.get(envelope.from);
    if (known !== undefined && isStaleSession(known, envelope)) {
      this.counters.staleSession++;
      return;
    }
    this.counters.received++;
    const intent: ReceivedIntent = { envelope, bytes, receivedAt };
    deps.gate.intentSeen(intent);
    if (this.inFlight >= this.maxInFlight) {
      this.counters.overload++;
      this.reply(intent, { r: 'no', reason: 'rate_limited', retry: OVERLOAD_RETRY_MS }, undefined, false);
      return;
    }
    this.inFlight++;
    let pending: Promise<void> | undefined;
    try {
      pending = this.run(handler, intent) ?? undefined;
    } catch (err) {
      deps.log.error({ err }, 'intent: answer failed');
    }
    if (pending === undefined) {
      this.inFlight--;
      return;
    }
    pending
      .catch((err: unknown) => deps.log.error({ err }, 'intent: answer failed'))
      .finally(() => {
        this.inFlight--;
      });
  }

  /** Synchronous when the handler is (the common case): no promise per intent on the hot path. */
  private run(handler: IntentHandler, intent: ReceivedIntent): void | Promise<void> {
    if (handler.relevant === undefined) return this.decideAndHandle(handler, intent);
    let relevant: boolean | Promise<boolean>;
    try {
      relevant = handler.relevant(intent);
    } catch (err) {
      this.failRelevant(handler, intent, err);
      return;
    }
    if (typeof relevant === 'boolean') {
      if (relevant) return this.decideAndHandle(handler, intent);
      this.counters.irrelevant++; // paradigm: not having the thing is silence, not NO
      return;
    }
    return relevant.then(
      (yes) => {
        if (yes) return this.decideAndHandle(handler, intent);
        this.counters.irrelevant++;
      },
      (err: unknown) => this.failRelevant(handler, intent, err),
    );
  }

  private failRelevant(handler: IntentHandler, intent: ReceivedIntent, err: unknown): void {
    this.handlerError(handler, err);
    this.reply(intent, { r: 'no', reason: 'bad_request' }, undefined, false);
  }

  private decideAndHandle(handler: IntentHandler, intent: ReceivedIntent): void | Promise<void> {
    const decision = this.deps.gate.decide(intent);
    if (decision.answer.r === 'no') {
      this.finish(intent, decision, decision.answer, 'no');
      return;
    }
    let result: Answer | Promise<Answer>;
    try {
      result = handler.handle(intent);
    } catch (err) {
      this.handlerError(handler, err);
      this.finish(intent, decision, { r: 'no', reason: 'bad_request' }, 'error');
      return;
    }
    if (!(result instanceof Promise)) {
      this.finish(intent, decision, result, result.r);
      return;
    }
    return result.then(
      (answer) => this.finish(intent, decision, answer, answer.r),
      (err: unknown) => {
        this.handlerError(handler, err);
        this.finish(intent, decision, { r: 'no', reason: 'bad_request' }, 'error');
      },
    );
  }

  private finish(
    intent: ReceivedIntent,
    decision: GateDecision,
    answer: Answer,
    outcome: 'yes' | 'no' | 'silence' | 'error',
  ): void {
    // Reply first (the requester is waiting), then record the decision (not awaited: batched).
    this.reply(intent, answer, decision.lim, decision.tight);
    const a = decision.answer;
    this.write(intent, a.r, a.r === 'no' ? a.reason : undefined, decision.lim, outcome);
  }

  private reply(intent: ReceivedIntent, answer: Answer, lim: LimiterValues | undefined, tight: boolean): void {
    const { deps } = this;
    if (answer.r === 'silence') {
      this.counters.silence++;
      return;
    }
    const now = deps.clock.monotonic();
    const e = intent.envelope;
    if (now - intent.receivedAt > e.deadline) {
      this.counters.expired++; // measured from receipt: the requester has closed; do not answer after it
      return;
    }
    const env: ReplyEnvelope = { v: 1, id: e.id, from: deps.self, session: deps.session(), r: answer.r };
    stampEpoch(env, deps.epoch?.() ?? NO_EPOCH);
    if (answer.r === 'yes') {
      if (answer.data !== undefined) env.data = answer.data;
      if (lim !== undefined && this.limTold.onYes(e.from, e.session, lim, tight, now)) env.lim = lim;
      this.counters.yes++;
    } else {
      env.reason = answer.reason;
      if (answer.retry !== undefined) env.retry = answer.retry;
      if (lim !== undefined) {
        env.lim = lim;
        this.limTold.onNo(e.from, e.session, lim, now);
      }
      this.counters.no++;
    }
    deps.publishReply(e.from, env);
  }

  private write(
    intent: ReceivedIntent,
    gate: 'yes' | 'no',
    reason: NoReason | undefined,
    lim: LimiterValues,
    outcome: 'yes' | 'no' | 'silence' | 'error',
  ): void {
    const e = intent.envelope;
    const entry: EntryInput = { event: 'decision', id: e.id, kind: e.kind, from: e.from, r: gate, lim, outcome };
    if (reason !== undefined) entry.reason = reason;
    if (e.subject !== undefined) entry.subject = e.subject;
    this.deps.record(entry); // not awaited: durable with the next commit
  }

  private handlerError(handler: IntentHandler, err: unknown): void {
    this.counters.handlerErrors++;
    if (this.counters.handlerErrors === 1) {
      this.deps.log.warn({ err, kind: handler.kind }, 'intent: a handler threw; answered NO bad_request (logged once)');
    }
  }
}

/**
 * The intent contract shared by the declare side, the answer side, the limiters and the layers
 * built on intents (chunks, observations).
 */
import type { IntentEnvelope, LimiterValues, NoReason, ReplyEnvelope } from '../protocol/index.js';

/** What a handler (or the gate) decides for one received intent. */
export type Answer =
  | { r: 'yes'; data?: unknown }
  | { r: 'no'; reason: NoReason; retry?: number }
  | { r: 'silence'; why?: string };

/** What the answer side knows about a received intent besides the envelope. */
export interface ReceivedIntent {
  envelope: IntentEnvelope;
  /** Encoded size of the whole envelope, bytes. */
  bytes: number;
  /** Monotonic ms at receipt; the deadline is measured from here. */
  receivedAt: number;
}

/**
 * Serves one kind. `handle` returns yes (with data), no (with a reason) or silence (not having the
 * thing). Throwing is counted and answered as NO `bad_request`; it never crashes the node.
 */
export interface IntentHandler {
  readonly kind: string;
  /** The role a node must have to serve this kind (`bt`, `mapper`). */
  readonly role: string;
  /**
   * Cheap pre-check before the gate: `false` means silence without consulting the limiters
   * (e.g. "I do not hold that chunk"). Default: relevant.
   */
  relevant?(intent: ReceivedIntent): boolean | Promise<boolean>;
  handle(intent: ReceivedIntent): Answer | Promise<Answer>;
}

/** The limiters' verdict for one intent, with the values that made it. */
export interface GateDecision {
  answer: { r: 'yes' } | { r: 'no'; reason: NoReason; retry?: number };
  /** The values decided on: always written to the series with the decision. */
  lim: LimiterValues;
  /**
   * Some value is at or below the YES fast path's threshold (`yesAbove`): the node is under
   * pressure. A YES reply carries `lim` only then (a NO always does); see answer.ts.
   */
  tight: boolean;
}

/**
 * The rate-limiting gate consulted before a relevant handler runs. The limiters implement it; the
 * answer side only calls it. `intentSeen` is called for every intent received on a served kind
 * (it feeds `w_tracking`), relevant or not.
 */
export interface Gate {
  intentSeen(intent: ReceivedIntent): void;
  decide(intent: ReceivedIntent): GateDecision;
}

/** One reply as the declaring node saw it. */
export interface ReceivedReply {
  envelope: ReplyEnvelope;
  /** Monotonic ms from declaration to receipt. */
  latencyMs: number;
  /** True when the replier was not in the expected set. */
  unexpected: boolean;
}

/** The closed outcome of one declared intent; it is also written to the series (`intent_outcome`). */
export interface Outcome {
  id: string;
  kind: string;
  subject?: string;
  /** Expected responders fixed at declaration (roster ∩ roles ∩ `to`, minus self). */
  expected: string[];
  yes: ReceivedReply[];
  no: ReceivedReply[];
  /** Expected nodes whose offline record (same session) arrived before close. */
  offline: string[];
  /** Every other expected node: neither answered nor went offline (paradigm: silence is data). */
  silence: string[];
  /** Replies that arrived after close (filled in while the intent is remembered). */
  late: ReceivedReply[];
  /** Why it closed. */
  closedBy: 'all_answered' | 'deadline' | 'stopped';
  elapsedMs: number;
}

export interface DeclareOptions {
  subject?: string;
  body?: unknown;
  /** Only these nodes are expected (and addressed). */
  to?: string[];
  /** ms; default `DEFAULT_DEADLINE_MS`. */
  deadlineMs?: number;
}

/**
 * A declared intent: iterate it for each reply as it comes, or await it for the closed outcome.
 */
export interface DeclaredIntent extends PromiseLike<Outcome>, AsyncIterable<ReceivedReply> {
  readonly id: string;
  readonly expected: readonly string[];
}

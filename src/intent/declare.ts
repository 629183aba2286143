/**
 * The declare side: fix the expected set at declaration, publish, collect replies, close as soon as
 * every expected node answered or went offline (deadline otherwise), keep late replies for a while,
 * write the whole outcome to the series (docs/protocol.md §7).
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';
import type { Roster } from '../presence/index.js';
import { type IntentEnvelope, isStaleSession, NO_EPOCH, type ReplyEnvelope, stampEpoch } from '../protocol/index.js';
import type { EntryInput } from '../series/index.js';
import {
  DEFAULT_DEADLINE_MS,
  KIND_PATTERN,
  LATE_KEEP_MS,
  MAX_DEADLINE_MS,
  MAX_LATE_PER_INTENT,
  MAX_PENDING_INTENTS,
  MAX_REMEMBERED_INTENTS,
} from './constants.js';
import { OpenIntent } from './declared.js';
import { BadDeclarationError, IntentTableFullError, UnknownKindError } from './errors.js';
import { nextIntentId } from './ids.js';
import { compactOutcome } from './record.js';
import type { DeclaredIntent, DeclareOptions, Outcome, ReceivedReply } from './types.js';

export interface DeclareSideDeps {
  self: string;
  session: () => number;
  /** This node's incarnation, sent beside the session (protocol/incarnation.ts). Default 0. */
  epoch?: () => number;
  roster: Roster;
  /** Fire-and-forget publish of an intent envelope (QoS 0). */
  publishIntent: (env: IntentEnvelope) => void;
  /** Writes an entry without waiting for its commit and never throws (`recorder`, series/recorder.ts). */
  record: (entry: EntryInput) => void;
  /** kind → serving role. */
  kindRoles: (kind: string) => string | undefined;
  clock: Clock;
  log: Logger;
  /** Open intents at once. Default `MAX_PENDING_INTENTS`. */
  maxPending?: number;
  /** How long late replies are kept after close, ms. Default `LATE_KEEP_MS`. */
  lateKeepMs?: number;
}

export interface DeclareStats {
  declared: number;
  pending: number;
  closed: number;
  replies: number;
  late: number;
  /** Replies for ids this node does not know (never declared, or forgotten). */
  unknown: number;
  /** Replies whose session is older than the roster's for that node (stale or spoofed). */
  staleSession: number;
  duplicates: number;
}

/**
 * What a closed intent keeps for late replies: only what `onReply` reads, not the open intent with
 * its replies (their envelopes and data). A node declaring a few hundred intents a second keeps
 * `MAX_REMEMBERED_INTENTS` of these for seconds: everything held here outlives the young
 * generation (copied by scavenges, then promoted) and is collected by full GCs. So it is two
 * sorted arrays of node ids, not the open intent's Map and Set: with 100 responders that was
 * ~8 KB an intent; the arrays cut the GC time of the 100-responder benchmark by 10-15 %.
 */
interface Remembered {
  until: number;
  declaredAt: number;
  /** Who replied before close (expected or not), sorted: a reply from them now is a duplicate. */
  replied: readonly string[];
  /** Expected nodes that did not reply before close (silent or offline), sorted. */
  outstanding: readonly string[];
  /** The outcome's `late` list (the caller may hold the outcome and see it grow). */
  late: ReceivedReply[];
}

/** Binary search in a sorted array of ids. */
function holds(sorted: readonly string[], id: string): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid] as string;
    if (v === id) return true;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

const NOBODY: readonly string[] = Object.freeze([]);

export class DeclareSide {
  private readonly pending = new Map<string, OpenIntent>();
  /** Closed intents kept for late replies; insertion order = close order. */
  private readonly remembered = new Map<string, Remembered>();
  /**
   * Ids in `remembered`, oldest first (`until` only grows: the same keep time from a monotonic
   * now), from `forgetHead` on. Forgetting walks this queue, not the Map: a Map iterated from its
   * start after deletions at the front skips every deleted slot until it rehashes.
   */
  private forgetQueue: string[] = [];
  private forgetHead = 0;
  private readonly counters: Omit<DeclareStats, 'pending'> = {
    declared: 0,
    closed: 0,
    replies: 0,
    late: 0,
    unknown: 0,
    staleSession: 0,
    duplicates: 0,
  };
  private readonly maxPending: number;
  private readonly lateKeepMs: number;
  private unsubscribeRoster: (() => void) | undefined;
  /**
   * One timer for every open intent's deadline, armed for the earliest due time (a timer per
   * intent cost a create and a cancel per declaration, and nearly every intent closes before it).
   */
  private deadlineTimer: TimerHandle | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  constructor(private readonly deps: DeclareSideDeps) {
    this.maxPending = deps.maxPending ?? MAX_PENDING_INTENTS;
    this.lateKeepMs = deps.lateKeepMs ?? LATE_KEEP_MS;
  }

  start(): void {
    this.unsubscribeRoster = this.deps.roster.onChange((peer, change) => {
      if (change === 'removed') this.onOffline(peer.node, peer.session);
    });
  }

  /** Close every open intent as `stopped`. */
  stop(): void {
    this.unsubscribeRoster?.();
    this.deps.clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    for (const intent of [...this.pending.values()]) this.close(intent, 'stopped');
    this.remembered.clear();
    this.forgetQueue = [];
    this.forgetHead = 0;
  }

  declare(kind: string, options: DeclareOptions = {}): DeclaredIntent {
    const { deps } = this;
    if (!KIND_PATTERN.test(kind)) throw new BadDeclarationError(`intent kind "${kind}" must match [a-z_]{1,32}`);
    const role = deps.kindRoles(kind);
    if (role === undefined) throw new UnknownKindError(kind);
    const deadline = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    if (!Number.isInteger(deadline) || deadline < 1 || deadline > MAX_DEADLINE_MS) {
      throw new BadDeclarationError(`deadline ${deadline} ms must be an integer in 1..${MAX_DEADLINE_MS}`);
    }
    if (this.pending.size >= this.maxPending) throw new IntentTableFullError(this.maxPending);

    // docs/protocol.md §7: expected = online ∩ roles serving the kind ∩ `to`, minus self, fixed now.
    const to = options.to === undefined ? undefined : new Set(options.to);
    const expected = new Map<string, number>();
    for (const peer of deps.roster.online()) {
      if (peer.node === deps.self || !peer.roles.includes(role)) continue;
      if (to !== undefined && !to.has(peer.node)) continue;
      expected.set(peer.node, peer.session);
    }
    const id = nextIntentId(deps.clock.now());
    const declaredAt = deps.clock.monotonic();
    const intent = new OpenIntent({ id, kind, subject: options.subject, expected, declaredAt });
    intent.dueAt = declaredAt + deadline;
    const env: IntentEnvelope = {
      v: 1,
      id,
      from: deps.self,
      session: deps.session(),
      kind,
      t: deps.clock.now(),
      deadline,
    };
    stampEpoch(env, deps.epoch?.() ?? NO_EPOCH);
    if (options.subject !== undefined) env.subject = options.subject;
    if (options.to !== undefined) env.to = [...options.to];
    if (options.body !== undefined) env.body = options.body;

    this.pending.set(id, intent);
    this.counters.declared++;
    if (intent.dueAt < this.armedFor) this.armDeadline(intent.dueAt, declaredAt);
    deps.publishIntent(env);
    if (expected.size === 0) this.close(intent, 'all_answered');
    return intent;
  }

  /** A validated reply addressed to this node. */
  onReply(env: ReplyEnvelope): void {
    const now = this.deps.clock.monotonic();
    const known = this.deps.roster.get(env.from);
    if (known !== undefined && isStaleSession(known, env)) {
      // Sparkplug bdSeq rule, applied to replies: another incarnation than the roster's, or an older
      // session of it, is stale or spoofed (protocol/incarnation.ts).
      this.counters.staleSession++;
      return;
    }
    const open = this.pending.get(env.id);
    if (open !== undefined) {
      if (open.repliedFrom.has(env.from)) {
        this.counters.duplicates++;
        return;
      }
      open.repliedFrom.add(env.from);
      this.counters.replies++;
      const reply: ReceivedReply = {
        envelope: env,
        latencyMs: now - open.declaredAt,
        unexpected: !open.expectedSessions.has(env.from),
      };
      open.addReply(reply);
      if (open.waiting.delete(env.from) && open.waiting.size === 0) this.close(open, 'all_answered');
      return;
    }
    const old = this.remembered.get(env.id);
    if (old === undefined || old.until < now) {
      this.counters.unknown++;
      return;
    }
    if (
      holds(old.replied, env.from) ||
      old.late.length >= MAX_LATE_PER_INTENT ||
      old.late.some((r) => r.envelope.from === env.from)
    ) {
      this.counters.duplicates++;
      return;
    }
    const reply: ReceivedReply = {
      envelope: env,
      latencyMs: now - old.declaredAt,
      // Expected and not replied before close = outstanding; anyone else replying now was not expected.
      unexpected: !holds(old.outstanding, env.from),
    };
    old.late.push(reply);
    this.counters.late++;
    this.deps.record({
      event: 'intent_late',
      id: env.id,
      node: env.from,
      r: env.r,
      ...(env.reason !== undefined ? { reason: env.reason } : {}),
      ms: Math.round(reply.latencyMs),
    });
  }

  stats(): DeclareStats {
    return { ...this.counters, pending: this.pending.size };
  }

  private onOffline(node: string, session: number): void {
    for (const open of this.pending.values()) {
      // docs/protocol.md §7: offline = expected nodes whose offline record (same session) arrived before close.
      if (open.expectedSessions.get(node) !== session || !open.waiting.delete(node)) continue;
      open.offline.push(node);
      if (open.waiting.size === 0) this.close(open, 'all_answered');
    }
  }

  /** (Re)arm the shared deadline timer for `due` (monotonic ms). */
  private armDeadline(due: number, now: number): void {
    const { clock } = this.deps;
    clock.clearTimeout(this.deadlineTimer);
    this.armedFor = due;
    this.deadlineTimer = clock.setTimeout(() => this.onDeadline(), Math.max(0, due - now));
  }

  /**
   * Close every open intent whose deadline has come; re-arm for the earliest one left. A timer can
   * fire a little before the monotonic due time (it counts from the loop's cached ms): then the
   * intent is not due yet and the timer is re-armed for the rest, so none closes early.
   */
  private onDeadline(): void {
    this.deadlineTimer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = this.deps.clock.monotonic();
    let next = Number.POSITIVE_INFINITY;
    for (const open of this.pending.values()) {
      if (open.dueAt <= now) this.close(open, 'deadline');
      else if (open.dueAt < next) next = open.dueAt;
    }
    if (next < Number.POSITIVE_INFINITY) this.armDeadline(next, now);
  }

  private close(open: OpenIntent, closedBy: Outcome['closedBy']): void {
    if (open.closed) return;
    const { clock } = this.deps;
    this.pending.delete(open.id);
    this.counters.closed++;
    const yes: Outcome['yes'] = [];
    const no: Outcome['no'] = [];
    for (const r of open.replies) (r.envelope.r === 'yes' ? yes : no).push(r);
    const now = clock.monotonic();
    const outcome: Outcome = {
      id: open.id,
      kind: open.kind,
      ...(open.subject !== undefined ? { subject: open.subject } : {}),
      expected: [...open.expected],
      yes,
      no,
      offline: [...open.offline],
      // paradigm: silence is data — every expected node that neither answered nor went offline.
      silence: [...open.waiting],
      late: [],
      closedBy,
      elapsedMs: now - open.declaredAt,
    };
    open.close(outcome);
    this.remember(open, outcome.late, now);
    // Batched durability: the outcome is appended without awaiting its fsync, and after the
    // awaiting caller's continuation (queued by close) so the next declaration is not held up.
    queueMicrotask(() => this.deps.record(compactOutcome(outcome)));
  }

  private remember(open: OpenIntent, late: ReceivedReply[], now: number): void {
    const outstanding = open.waiting.size + open.offline.length;
    this.remembered.set(open.id, {
      until: now + this.lateKeepMs,
      declaredAt: open.declaredAt,
      replied: open.repliedFrom.size === 0 ? NOBODY : [...open.repliedFrom].sort(),
      outstanding: outstanding === 0 ? NOBODY : [...open.waiting, ...open.offline].sort(),
      late,
    });
    this.forgetQueue.push(open.id);
    const q = this.forgetQueue;
    while (this.forgetHead < q.length) {
      const id = q[this.forgetHead] as string;
      const r = this.remembered.get(id);
      if (r !== undefined && this.remembered.size <= MAX_REMEMBERED_INTENTS && r.until >= now) break;
      this.remembered.delete(id);
      this.forgetHead++;
    }
    // Drop the forgotten prefix once it is most of the array (amortised O(1) per intent).
    if (this.forgetHead > 1024 && this.forgetHead * 2 > q.length) {
      this.forgetQueue = q.slice(this.forgetHead);
      this.forgetHead = 0;
    }
  }
}

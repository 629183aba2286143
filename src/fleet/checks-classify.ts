/**
 * Exact classification, judged on one requester's series (the fleet requester, or a mapper whose
 * surveys are intents too), entry by entry in seq order:
 * - every expected node is in exactly one of yes, no, silence, offline (nothing lost, nothing
 *   counted twice) and each intent id closes once;
 * - a silent node is never in yes or no;
 * - a node is `offline` only when its offline presence (its Will, or its clean stop) reached the
 *   requester during the intent or before it, and is not yet undone by a new birth;
 * - a killed node gives no yes between its SIGKILL and its restart, a stalled node no yes or no
 *   while the proxy in front of it held everything.
 * Also collects the latencies per outcome and the outcome mix per second for the report.
 */
import type { Entry } from '../series/index.js';

/** A window in wall-clock ms during which `nodes` cannot answer. */
export interface DeadWindow {
  kind: 'kill' | 'stall';
  fromMs: number;
  toMs: number;
  nodes: ReadonlySet<string>;
}

export interface ClassifyTally {
  outcomes: number;
  /** Expected nodes missing from every list, or present in several, summed over outcomes. */
  miscounted: number;
  duplicateIds: number;
  /** A silent node found in yes or no. */
  silentAnswered: number;
  /** Silent nodes expected (each should be silence, or offline when it died). */
  silentExpected: number;
  silentInSilence: number;
  /** Offline with no offline presence record to justify it. */
  offlineWithoutWill: number;
  offlineJustified: number;
  /** Offline at a requester whose series keeps no presence entries (a worker's nodes share one roster). */
  offlineUnverified: number;
  /** A yes (kill) or any reply (stall) inside a dead window. */
  answeredWhileDead: number;
  /** Which problems, the first few, for the detail line. */
  examples: string[];
}

export interface LatencySamples {
  yes: number[];
  no: number[];
  silenceClose: number[];
}

/** Outcome counts per second since the run's start: yes, no, silence, offline. */
export type SecondBuckets = Map<number, { yes: number; no: number; silence: number; offline: number }>;

/** Offline presence within this much before an intent's declaration still counts (clock stamps are ms). */
const WILL_SLACK_MS = 50;
const MAX_EXAMPLES = 5;

export function emptyClassifyTally(): ClassifyTally {
  return {
    outcomes: 0,
    miscounted: 0,
    duplicateIds: 0,
    silentAnswered: 0,
    silentExpected: 0,
    silentInSilence: 0,
    offlineWithoutWill: 0,
    offlineJustified: 0,
    offlineUnverified: 0,
    answeredWhileDead: 0,
    examples: [],
  };
}

interface Presence {
  online: boolean;
  /** Wall ms of the last offline record. */
  removedAt: number;
}

export interface ClassifyContext {
  silent: ReadonlySet<string>;
  dead: readonly DeadWindow[];
  runStartMs: number;
  /**
   * The fleet requester's presence changes per node (wall ms, online or not), in time order: the
   * view a requester that keeps no presence entries (a worker's nodes share one roster) is judged
   * by, since the broker sends a Will to every subscriber at once.
   */
  presenceLog?: ReadonlyMap<string, ReadonlyArray<{ t: number; online: boolean }>>;
  /** Wall ms the requester's view ends (it stops before the fleet's nodes do). */
  presenceUntilMs?: number;
}

/** How far apart two processes may hear the same Will, ms. */
const CROSS_VIEW_SLACK_MS = 250;

/** Presence changes per node from a series' entries (the fleet requester's). */
export function presenceLogOf(entries: Iterable<Entry>): Map<string, Array<{ t: number; online: boolean }>> {
  const out = new Map<string, Array<{ t: number; online: boolean }>>();
  for (const e of entries) {
    if (e.event !== 'peer_added' && e.event !== 'peer_removed') continue;
    const node = String(e.node);
    const log = out.get(node) ?? [];
    log.push({ t: e.t, online: e.event === 'peer_added' });
    out.set(node, log);
  }
  return out;
}

/** The node went offline during the intent, or was offline when it was declared, in `log`'s view. */
function offlineInLog(
  log: ReadonlyArray<{ t: number; online: boolean }> | undefined,
  from: number,
  to: number,
): boolean {
  if (log === undefined) return false;
  const during = log.some((x) => !x.online && x.t >= from - CROSS_VIEW_SLACK_MS && x.t <= to + CROSS_VIEW_SLACK_MS);
  const before = [...log].reverse().find((x) => x.t <= from);
  return during || before?.online === false;
}

/** Folds one requester's entries (seq order) into the tally, latencies and per-second mix. */
export function classifySeries(
  requester: string,
  entries: Iterable<Entry>,
  ctx: ClassifyContext,
  out: { tally: ClassifyTally; latency: LatencySamples; seconds: SecondBuckets },
): void {
  const presence = new Map<string, Presence>();
  const ids = new Set<string>();
  const all = [...entries];
  const keepsPresence = all.some((e) => e.event === 'peer_added' || e.event === 'peer_removed');
  for (const e of all) {
    if (e.event === 'peer_added' || e.event === 'peer_removed') {
      const node = String(e.node);
      const prev = presence.get(node) ?? { online: false, removedAt: Number.NEGATIVE_INFINITY };
      presence.set(node, e.event === 'peer_added' ? { ...prev, online: true } : { online: false, removedAt: e.t });
      continue;
    }
    if (e.event !== 'intent_outcome' || e.t < ctx.runStartMs) continue;
    const id = String(e.id);
    if (ids.has(id)) note(out.tally, 'duplicateIds', `${requester}: intent ${id} closed twice`);
    ids.add(id);
    judgeOutcome(requester, e, keepsPresence ? presence : undefined, ctx, out);
  }
}

type Reply = { node: string; ms: number; x?: true };
const repliesOf = (v: unknown): Reply[] => (Array.isArray(v) ? (v as Reply[]) : []);
const idsOf = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

function judgeOutcome(
  requester: string,
  e: Entry,
  /** Undefined when this requester's series keeps no presence entries. */
  presence: ReadonlyMap<string, Presence> | undefined,
  ctx: ClassifyContext,
  out: { tally: ClassifyTally; latency: LatencySamples; seconds: SecondBuckets },
): void {
  const t = out.tally;
  t.outcomes++;
  const yes = repliesOf(e.yes).filter((r) => !r.x);
  const no = repliesOf(e.no).filter((r) => !r.x);
  const silence = idsOf(e.silence);
  const offline = idsOf(e.offline);
  const expected = idsOf(e.expected);
  const elapsed = typeof e.ms === 'number' ? e.ms : 0;
  const declaredAt = e.t - elapsed;
  countOnce(requester, e, expected, [yes.map((r) => r.node), no.map((r) => r.node), silence, offline], t);
  for (const n of expected) {
    if (!ctx.silent.has(n)) continue;
    t.silentExpected++;
    if (silence.includes(n)) t.silentInSilence++;
  }
  for (const r of [...yes, ...no]) {
    if (ctx.silent.has(r.node)) note(t, 'silentAnswered', `${requester}: silent ${r.node} answered ${e.id}`);
  }
  for (const n of offline) {
    if (presence === undefined) {
      if (ctx.presenceLog === undefined || e.t > (ctx.presenceUntilMs ?? Number.POSITIVE_INFINITY))
        t.offlineUnverified++;
      else if (offlineInLog(ctx.presenceLog.get(n), declaredAt, e.t)) t.offlineJustified++;
      else note(t, 'offlineWithoutWill', `${requester}: ${n} offline in ${e.id} with no offline record seen`);
      continue;
    }
    const p = presence.get(n);
    // Still offline, or went offline during the intent and was back before its close.
    if (p !== undefined && (!p.online || p.removedAt >= declaredAt - WILL_SLACK_MS)) t.offlineJustified++;
    else note(t, 'offlineWithoutWill', `${requester}: ${n} offline in ${e.id} with no offline record before`);
  }
  judgeDead(requester, e, declaredAt, yes, no, ctx, t);
  record(out, { declaredAt, yes, no, silence, offline, elapsed }, ctx.runStartMs);
}

/** Each expected node in exactly one list. */
function countOnce(requester: string, e: Entry, expected: string[], lists: string[][], t: ClassifyTally): void {
  const seen = new Map<string, number>();
  for (const l of lists) for (const n of l) seen.set(n, (seen.get(n) ?? 0) + 1);
  for (const n of expected) {
    if (seen.get(n) !== 1) note(t, 'miscounted', `${requester}: ${n} counted ${seen.get(n) ?? 0} times in ${e.id}`);
  }
  for (const n of seen.keys()) {
    if (!expected.includes(n)) note(t, 'miscounted', `${requester}: ${n} counted in ${e.id} but not expected`);
  }
}

function judgeDead(
  requester: string,
  e: Entry,
  declaredAt: number,
  yes: Reply[],
  no: Reply[],
  ctx: ClassifyContext,
  t: ClassifyTally,
): void {
  for (const w of ctx.dead) {
    // Replies are judged by when they arrived: declaration + their latency.
    const within = (r: Reply): boolean => {
      const at = declaredAt + r.ms;
      return w.nodes.has(r.node) && at > w.fromMs && at < w.toMs;
    };
    const bad = w.kind === 'kill' ? yes.filter(within) : [...yes, ...no].filter(within);
    for (const r of bad) note(t, 'answeredWhileDead', `${requester}: ${r.node} answered ${e.id} during its ${w.kind}`);
  }
}

interface Closed {
  declaredAt: number;
  yes: Reply[];
  no: Reply[];
  silence: string[];
  offline: string[];
  elapsed: number;
}

function record(out: { latency: LatencySamples; seconds: SecondBuckets }, c: Closed, runStartMs: number): void {
  const { declaredAt, yes, no, silence, offline, elapsed } = c;
  for (const r of yes) out.latency.yes.push(r.ms);
  for (const r of no) out.latency.no.push(r.ms);
  if (silence.length > 0) out.latency.silenceClose.push(elapsed);
  const s = Math.max(0, Math.floor((declaredAt - runStartMs) / 1000));
  const b = out.seconds.get(s) ?? { yes: 0, no: 0, silence: 0, offline: 0 };
  b.yes += yes.length;
  b.no += no.length;
  b.silence += silence.length;
  b.offline += offline.length;
  out.seconds.set(s, b);
}

function note(
  t: ClassifyTally,
  key: 'miscounted' | 'duplicateIds' | 'silentAnswered' | 'offlineWithoutWill' | 'answeredWhileDead',
  what: string,
): void {
  t[key]++;
  if (t.examples.length < MAX_EXAMPLES) t.examples.push(what);
}

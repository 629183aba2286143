/**
 * What each requester was last told of this node's limiter values (`lim`), so that a YES repeats
 * them only when they are news to that requester. A YES without `lim` then means "the values I
 * last told you still hold" — as long as neither side changed session (this table is in memory
 * and keyed by the requester's session) — and, with nothing told, "plenty" (every value above
 * `yesAbove`, the answer side's fast path). A requester that tracks `lim` per peer therefore drops
 * what it holds for a peer whose reply shows a new session.
 *
 * Why: under pressure every YES would carry `lim` (a large share of a reply), and the values change
 * far more slowly than replies go out (the gate keeps the same frozen values while they are equal
 * at `LIMITER_DECIMALS`). Encoding them, checking them at the broker and decoding them at the
 * requester cost CPU on every intent (docs/design-notes.md; the same idea as HPACK's header table:
 * send what changed).
 *
 * A reply is QoS 0: a lost one could leave a requester with old values, so they are told again
 * after `LIM_REFRESH_MS` even when unchanged. A requester's new session starts from nothing (it
 * forgot), and so does one pushed out of the bounded table (told again at its next tight YES).
 */
import type { LimiterValues } from '../protocol/index.js';
import { LIM_REFRESH_MS, MAX_LIM_TOLD } from './constants.js';

interface Told {
  session: number;
  lim: LimiterValues;
  /** Monotonic ms of the telling. */
  at: number;
}

export interface LimToldOptions {
  refreshMs?: number;
  maxRequesters?: number;
}

export class LimTold {
  private readonly told = new Map<string, Told>();
  private readonly refreshMs: number;
  private readonly max: number;

  constructor(options: LimToldOptions = {}) {
    this.refreshMs = options.refreshMs ?? LIM_REFRESH_MS;
    this.max = options.maxRequesters ?? MAX_LIM_TOLD;
  }

  /**
   * For a YES to `requester` (in its `session`) decided on `lim`: whether the reply carries it.
   * `tight` = some value at or below `yesAbove`. Remembers what it says to tell.
   */
  onYes(requester: string, session: number, lim: LimiterValues, tight: boolean, now: number): boolean {
    const last = this.told.get(requester);
    const believes = last !== undefined && last.session === session ? last : undefined;
    if (!tight) {
      // Plenty: news only to a requester that still believes tight values.
      if (believes === undefined) return false;
      this.told.delete(requester);
      return true;
    }
    if (believes !== undefined && now - believes.at < this.refreshMs && sameValues(believes.lim, lim)) return false;
    this.remember(requester, session, lim, now);
    return true;
  }

  /** A NO always carries `lim` (the values behind the refusal): the requester now believes them. */
  onNo(requester: string, session: number, lim: LimiterValues, now: number): void {
    this.remember(requester, session, lim, now);
  }

  /** Requesters remembered (bounded by `maxRequesters`). */
  size(): number {
    return this.told.size;
  }

  private remember(requester: string, session: number, lim: LimiterValues, at: number): void {
    // Re-inserted at the end: the Map's first key is the requester told longest ago.
    this.told.delete(requester);
    this.told.set(requester, { session, lim, at });
    if (this.told.size > this.max) this.told.delete(this.told.keys().next().value as string);
  }
}

/** Equal values (the gate hands out the same frozen object while they are: usually one compare). */
function sameValues(a: LimiterValues, b: LimiterValues): boolean {
  return (
    a === b ||
    (a.economic === b.economic &&
      a.cpu === b.cpu &&
      a.memory === b.memory &&
      a.w_tracking === b.w_tracking &&
      a.objective === b.objective &&
      a.topology === b.topology)
  );
}

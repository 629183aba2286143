/**
 * Derived views: state folded from entries. `fold` is the pure definition (derivation over a full
 * history); `ViewSet` keeps the live states of a series and restores them from a snapshot.
 *
 * derivation = last snapshot + fold of the entries after it. A view absent from the snapshot (a
 * view added by a later release) starts from `initial()` and folds only what follows that
 * snapshot: it sees the retained tail, not the evicted history.
 */
import type { Logger } from '../log.js';
import { SNAPSHOT_EVENT } from './constants.js';
import { UnknownViewError } from './errors.js';
import type { Entry, View } from './types.js';

/** Fold entries into a view from its initial state. Snapshot entries are skipped, as live. */
export function fold<S>(entries: Iterable<Entry>, view: View<S>, from: S = view.initial()): S {
  let state = from;
  for (const e of entries) if (e.event !== SNAPSHOT_EVENT) state = view.apply(state, e);
  return state;
}

export class ViewSet {
  private readonly states = new Map<string, unknown>();
  private readonly byName = new Map<string, View<unknown>>();
  private readonly warned = new Set<string>();

  constructor(
    views: readonly View<unknown>[],
    private readonly log: Logger,
  ) {
    for (const v of views) {
      if (this.byName.has(v.name)) throw new Error(`two views named "${v.name}"`);
      this.byName.set(v.name, v);
      this.states.set(v.name, v.initial());
    }
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  get<S>(name: string): S {
    if (!this.byName.has(name)) throw new UnknownViewError(name);
    return this.states.get(name) as S;
  }

  /** Reset every view to `initial()`, or to its state in `snap` when the snapshot has it. */
  restore(snap: Record<string, unknown> | undefined): void {
    for (const [name, v] of this.byName) {
      this.states.set(name, snap && Object.hasOwn(snap, name) ? snap[name] : v.initial());
    }
  }

  /**
   * Apply one entry to every view. A throwing `apply` keeps that view's previous state and is
   * logged once per view; being deterministic, it throws again on replay, so live and rebuilt
   * states still agree.
   */
  apply(entry: Entry): void {
    if (entry.event === SNAPSHOT_EVENT) return;
    for (const [name, v] of this.byName) {
      try {
        this.states.set(name, v.apply(this.states.get(name), entry));
      } catch (err) {
        if (!this.warned.has(name)) {
          this.warned.add(name);
          this.log.error({ err, view: name, seq: entry.seq }, 'series view apply threw; entry ignored by that view');
        }
      }
    }
  }

  /** `{name: state}` of every view, for a snapshot entry. */
  snapshot(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, state] of this.states) out[name] = state;
    return out;
  }
}

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
  const only = view.events;
  for (const e of entries) {
    if (e.event !== SNAPSHOT_EVENT && (only === undefined || only.includes(e.event))) state = view.apply(state, e);
  }
  return state;
}

/** Event names whose view lists are remembered (event names come from code; more is a caller's bug). */
const MAX_EVENT_ROUTES = 512;

export class ViewSet {
  // Arrays, not Maps: `apply` runs on every append and walks these by index.
  private readonly views: View<unknown>[] = [];
  private readonly states: unknown[] = [];
  private readonly indexOf = new Map<string, number>();
  /** Event name → indexes of the views that fold it (every view without `events`, in order). */
  private readonly routes = new Map<string, readonly number[]>();
  private readonly warned = new Set<string>();

  constructor(
    views: readonly View<unknown>[],
    private readonly log: Logger,
  ) {
    for (const v of views) {
      if (this.indexOf.has(v.name)) throw new Error(`two views named "${v.name}"`);
      this.indexOf.set(v.name, this.views.length);
      this.views.push(v);
      this.states.push(v.initial());
    }
  }

  get names(): string[] {
    return this.views.map((v) => v.name);
  }

  get<S>(name: string): S {
    const i = this.indexOf.get(name);
    if (i === undefined) throw new UnknownViewError(name);
    return this.states[i] as S;
  }

  /** Reset every view to `initial()`, or to its state in `snap` when the snapshot has it. */
  restore(snap: Record<string, unknown> | undefined): void {
    this.views.forEach((v, i) => {
      this.states[i] = snap && Object.hasOwn(snap, v.name) ? snap[v.name] : v.initial();
    });
  }

  /**
   * Apply one entry to every view that folds its event. A throwing `apply` keeps that view's
   * previous state and is logged once per view; being deterministic, it throws again on replay, so
   * live and rebuilt states still agree.
   */
  apply(entry: Entry): void {
    if (entry.event === SNAPSHOT_EVENT) return;
    const route = this.routeOf(entry.event);
    for (let k = 0; k < route.length; k++) {
      const i = route[k] as number;
      try {
        this.states[i] = (this.views[i] as View<unknown>).apply(this.states[i], entry);
      } catch (err) {
        const name = (this.views[i] as View<unknown>).name;
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
    this.views.forEach((v, i) => {
      out[v.name] = this.states[i];
    });
    return out;
  }

  private routeOf(event: string): readonly number[] {
    const known = this.routes.get(event);
    if (known !== undefined) return known;
    const route: number[] = [];
    for (let i = 0; i < this.views.length; i++) {
      const only = (this.views[i] as View<unknown>).events;
      if (only === undefined || only.includes(event)) route.push(i);
    }
    if (this.routes.size < MAX_EVENT_ROUTES) this.routes.set(event, route);
    return route;
  }
}

/**
 * What a node tells dashboards, folded from its own series: the intents it closed (counted, newest
 * last) and its newest consensus per cell and metric. Both bounded; plain data (views are kept in
 * snapshots).
 */
import { CONSENSUS_EVENT } from '../observe/index.js';
import type { ClosedIntentSummary, ConsensusCell } from '../protocol/index.js';
import { MAX_CONSENSUS_CELLS } from '../protocol/index.js';
import type { Entry, View } from '../series/index.js';
import { MAX_PENDING_CLOSED } from './constants.js';

export const DASHBOARD_VIEW = 'dashboard.status';
const OUTCOME_EVENT = 'intent_outcome';

export interface DashboardViewState {
  /** The newest closed intents with the seq of their outcome entry, oldest first. */
  closed: (ClosedIntentSummary & { seq: number })[];
  /** `{metric}\0{cell}` → newest consensus; insertion order = oldest first. */
  cells: Record<string, ConsensusCell>;
}

type Fields = Record<string, unknown>;
const count = (v: unknown): number => (Array.isArray(v) ? v.length : 0);

/** An `intent_outcome` entry (intent/record.ts) as counts. */
export function summaryOf(e: Entry): ClosedIntentSummary & { seq: number } {
  const f = e as unknown as Fields;
  const no: Record<string, number> = {};
  for (const r of Array.isArray(f.no) ? f.no : []) {
    const reason = typeof (r as Fields).reason === 'string' ? ((r as Fields).reason as string) : 'bad_request';
    no[reason] = (no[reason] ?? 0) + 1;
  }
  return {
    seq: e.seq,
    id: String(f.id),
    kind: String(f.kind),
    ms: typeof f.ms === 'number' ? f.ms : 0,
    yes: count(f.yes),
    no,
    silence: count(f.silence),
    offline: count(f.offline),
  };
}

function cellOf(e: Entry): ConsensusCell | undefined {
  const f = e as unknown as Fields;
  if (typeof f.cell !== 'string' || typeof f.metric !== 'string' || typeof f.value !== 'number') return undefined;
  const cell: ConsensusCell = {
    cell: f.cell,
    metric: f.metric,
    value: f.value,
    spread: typeof f.spread === 'number' && Number.isFinite(f.spread) ? f.spread : 0,
    n: count(f.responders),
    t: e.t,
  };
  if (f.low_confidence === true) cell.low = true;
  return cell;
}

export const dashboardView: View<DashboardViewState> = {
  name: DASHBOARD_VIEW,
  events: [OUTCOME_EVENT, CONSENSUS_EVENT],
  initial: () => ({ closed: [], cells: {} }),
  apply(state, e) {
    if (e.event === OUTCOME_EVENT) {
      state.closed.push(summaryOf(e));
      if (state.closed.length > MAX_PENDING_CLOSED) state.closed.splice(0, state.closed.length - MAX_PENDING_CLOSED);
      return state;
    }
    const cell = cellOf(e);
    if (cell === undefined) return state;
    const key = `${cell.metric}\u0000${cell.cell}`;
    delete state.cells[key];
    state.cells[key] = cell;
    const keys = Object.keys(state.cells);
    if (keys.length > MAX_CONSENSUS_CELLS) delete state.cells[keys[0] as string];
    return state;
  },
};

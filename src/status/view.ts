/**
 * The `status` view: the newest `survey` and `backup` entries, so a running node answers `/status`
 * without searching its series, and both survive ring eviction in snapshots. Bounded: two entries,
 * each with at most `STATUS_MAX_CELLS` cells.
 */
import type { Entry, View } from '../series/types.js';
import { BACKUP_EVENT, STATUS_MAX_CELLS, STATUS_VIEW, SURVEY_EVENT } from './constants.js';
import type { RecordedEntry } from './types.js';

export interface StatusViewState {
  survey: RecordedEntry | null;
  backup: RecordedEntry | null;
}

export const statusView: View<StatusViewState> = {
  name: STATUS_VIEW,
  events: [SURVEY_EVENT, BACKUP_EVENT],
  initial: () => ({ survey: null, backup: null }),
  apply(state, entry: Entry) {
    if (entry.event === SURVEY_EVENT) return { ...state, survey: shown(entry) };
    if (entry.event === BACKUP_EVENT) return { ...state, backup: shown(entry) };
    return state;
  },
};

/** An entry as status shows it: its fields besides `event`, a long cell list cut. */
export function shown(e: Entry): RecordedEntry {
  const { event: _event, ...rest } = e;
  if (Array.isArray(rest.cells) && rest.cells.length > STATUS_MAX_CELLS) {
    return { ...rest, cells: rest.cells.slice(0, STATUS_MAX_CELLS), cells_total: rest.cells.length };
  }
  return rest;
}

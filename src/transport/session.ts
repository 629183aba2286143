/**
 * The per-connection session counter (DESIGN.md: grows by one at every (re)connect and survives
 * restarts; derived from the series). State = the highest `session` of the `session_started`
 * entries seen.
 */
import type { Entry, View } from '../series/types.js';

export const SESSION_VIEW = 'session';
export const SESSION_STARTED = 'session_started';

export const sessionView: View<number> = {
  name: SESSION_VIEW,
  events: [SESSION_STARTED],
  initial: () => 0,
  apply(state, entry: Entry) {
    if (entry.event !== SESSION_STARTED) return state;
    const s = typeof entry.session === 'number' ? entry.session : state + 1;
    return Math.max(state, s);
  },
};

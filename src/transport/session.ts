/**
 * The per-connection session counter (docs/protocol.md §5.1: grows by one at every (re)connect and survives
 * restarts; derived from the series). State = the highest `session` of the `session_started`
 * entries seen. Beside it the node's incarnation (protocol/incarnation.ts): the `epoch` of its
 * `session_started` entries, drawn once when the series holds none (a new board, a re-flashed
 * card, or a series written before epochs), so sessions restarting at 1 are a new incarnation.
 */
import { randomInt } from 'node:crypto';
import { EPOCH_LIMIT, NO_EPOCH } from '../protocol/index.js';
import type { Entry, Series, View } from '../series/types.js';

export const SESSION_VIEW = 'session';
export const EPOCH_VIEW = 'epoch';
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

/** The epoch of the newest `session_started` entry that has one; NO_EPOCH before any. */
export const epochView: View<number> = {
  name: EPOCH_VIEW,
  events: [SESSION_STARTED],
  initial: () => NO_EPOCH,
  apply(state, entry: Entry) {
    if (entry.event !== SESSION_STARTED) return state;
    return Number.isSafeInteger(entry.epoch) && (entry.epoch as number) > NO_EPOCH ? (entry.epoch as number) : state;
  },
};

/** A random epoch in [1, EPOCH_LIMIT). */
export const drawEpoch = (): number => randomInt(1, EPOCH_LIMIT);

/** The next connection's (session, epoch): the series' epoch, or a new one drawn when it has none. */
export function nextSession(
  series: Pick<Series, 'view'>,
  draw: () => number = drawEpoch,
): { session: number; epoch: number } {
  const known = series.view<number>(EPOCH_VIEW);
  return { session: series.view<number>(SESSION_VIEW) + 1, epoch: known === NO_EPOCH ? draw() : known };
}

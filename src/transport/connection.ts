/**
 * The connection's state as the node lived it: `connection` entries, written by the transport on
 * each state change only (never per attempt, so a broker down for a day costs one `lost` entry),
 * and the `connection` view folding them, so `dameso status --data` can say what a node (running
 * or stopped) last knew of its broker after the ring evicted the entries themselves.
 *
 * Entry: `{event:'connection', state:'online'|'lost'|'back'|'stopped', broker, node?, roles?,
 * reason?, away_ms?}` — `node` and `roles` ride on `online` (the first connect of a process),
 * `reason` on `lost`, `away_ms` on `back`.
 */
import type { Entry, View } from '../series/types.js';

export const CONNECTION_EVENT = 'connection';
export const CONNECTION_VIEW = 'connection';

/** What a `connection` entry says happened. */
export type ConnectionChange = 'online' | 'lost' | 'back' | 'stopped';

/** The live state: before the first CONNACK `connecting`, after a loss `reconnecting`. */
export type ConnectionState = 'connecting' | 'online' | 'reconnecting' | 'stopped';

/** What `Transport.connection()` tells a health check or a status page. */
export interface ConnectionStatus {
  state: ConnectionState;
  /** The broker URL. */
  broker: string;
  /** Wall-clock ms of the last state change. */
  since: number;
  /** Why the connection was lost (with `reconnecting`). */
  reason?: string;
  /** Delay before the next connection attempt, ms (while one is scheduled). */
  nextTryMs?: number;
}

export interface ConnectionViewState {
  /** The newest `connection` entry's state; null before any. */
  state: ConnectionChange | null;
  broker: string | null;
  /** Node id and roles of the last `online` entry. */
  node: string | null;
  roles: string[];
  /** Wall-clock ms and seq of the newest entry. */
  t: number;
  seq: number;
  reason: string | null;
}

export const connectionView: View<ConnectionViewState> = {
  name: CONNECTION_VIEW,
  events: [CONNECTION_EVENT],
  initial: () => ({ state: null, broker: null, node: null, roles: [], t: 0, seq: 0, reason: null }),
  apply(state, entry: Entry) {
    if (entry.event !== CONNECTION_EVENT || !isChange(entry.state)) return state;
    const online = entry.state === 'online';
    return {
      state: entry.state,
      broker: typeof entry.broker === 'string' ? entry.broker : state.broker,
      node: online && typeof entry.node === 'string' ? entry.node : state.node,
      roles: online && Array.isArray(entry.roles) ? entry.roles.map(String) : state.roles,
      t: entry.t,
      seq: entry.seq,
      reason: typeof entry.reason === 'string' ? entry.reason : null,
    };
  },
};

function isChange(v: unknown): v is ConnectionChange {
  return v === 'online' || v === 'lost' || v === 'back' || v === 'stopped';
}

/** A short reason for a closed connection: the error mqtt.js reported just before, if any. */
export function lossReason(err: (Error & { code?: unknown }) | undefined): string {
  if (err === undefined) return 'closed by the broker';
  if (typeof err.code === 'string') return err.code;
  return err.message.slice(0, 120);
}

/**
 * The `backup` view: the last seq of the node's own series that is worth a backup round.
 *
 * Replication writes entries of its own on both sides (the pusher's `store_chunk` outcomes and
 * `chunk_pushed`, the holder's decisions and `stored_chunk`). If those started a round, every push
 * would cause the next one, and storage nodes backing each other up would keep pushing to each
 * other forever. So they are bookkeeping: they ride along in the next chunk (a chunk is a
 * contiguous seq range), but never start a round by themselves.
 */
import type { Entry, View } from '../series/index.js';
import { BACKUP_VIEW } from './constants.js';

export interface BackupViewState {
  /** Highest seq of an entry that is not replication bookkeeping; 0 before any. */
  last_data_seq: number;
}

/** The kind of intent that carries chunks to storage nodes. */
const STORE_KIND = 'store_chunk';

/** Entries written by replication itself, on the pushing and on the holding side. */
const BOOKKEEPING_EVENTS: ReadonlySet<string> = new Set([
  'backup',
  'chunk_pushed',
  'stored_chunk',
  'evicted_chunk',
  'chunk_rejected',
]);

/** Entries about an intent: bookkeeping when the intent was a `store_chunk`. */
const INTENT_EVENTS: ReadonlySet<string> = new Set(['intent_outcome', 'decision']);

export function isReplicationBookkeeping(entry: Pick<Entry, 'event'> & { kind?: unknown }): boolean {
  if (BOOKKEEPING_EVENTS.has(entry.event)) return true;
  // `intent_late` carries no kind: a late reply is to our own intents, mostly store_chunk ones.
  if (entry.event === 'intent_late') return true;
  return INTENT_EVENTS.has(entry.event) && entry.kind === STORE_KIND;
}

/** Folds every entry (no `events` list): one comparison per append. */
export const backupView: View<BackupViewState> = {
  name: BACKUP_VIEW,
  initial: () => ({ last_data_seq: 0 }),
  apply(state, entry) {
    if (!isReplicationBookkeeping(entry)) state.last_data_seq = entry.seq;
    return state;
  },
};

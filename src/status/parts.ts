/** The status fields both sources (series folder, running node) build the same way. */
import { BACKUP_VIEW, type BackupViewState, CHUNKS_VIEW, type ChunksState } from '../chunks/index.js';
import { LIMITERS_VIEW, type LimiterTally } from '../limiters/index.js';
import type { LimiterValues } from '../protocol/types.js';
import type { Series } from '../series/types.js';
import { BACKUP_EVENT, STATUS_SCAN_ENTRIES, STATUS_VIEW, SURVEY_EVENT } from './constants.js';
import { newestOf } from './newest.js';
import type { NodeStatus } from './types.js';
import type { StatusViewState } from './view.js';

/** A view's state, or undefined when the series has no such view (a node without that part). */
export function viewOr<S>(series: Pick<Series, 'view'>, name: string): S | undefined {
  try {
    return series.view<S>(name);
  } catch {
    return undefined;
  }
}

/** Series size, backup lag, newest survey and backup entries, recorded limiter tallies. */
export async function recordedParts(
  series: Pick<Series, 'read' | 'view' | 'stats' | 'lastSeq'>,
  budgetBytes: number | null,
  liveValues: LimiterValues | undefined,
  /** Events to search the newest entries for when the view does not hold them. */
  search: readonly string[],
): Promise<Pick<NodeStatus, 'survey' | 'backup' | 'limiters' | 'series' | 'board' | 'device' | 'scannedEntries'>> {
  const s = series.stats();
  const kept = viewOr<StatusViewState>(series, STATUS_VIEW);
  // What the view does not hold (a series written before it, or a reader without it) is searched for.
  const missing = [
    ...(kept?.survey ? [] : search.includes(SURVEY_EVENT) ? [SURVEY_EVENT] : []),
    ...(kept?.backup ? [] : search.includes(BACKUP_EVENT) ? [BACKUP_EVENT] : []),
  ];
  const newest = {
    ...(await newestOf(series, missing, STATUS_SCAN_ENTRIES)),
    ...(kept?.survey ? { [SURVEY_EVENT]: kept.survey } : {}),
    ...(kept?.backup ? { [BACKUP_EVENT]: kept.backup } : {}),
  };
  const pushedToSeq = viewOr<ChunksState>(series, CHUNKS_VIEW)?.pushed_to_seq ?? 0;
  // Lag counts the entries a backup round would push: replication's own bookkeeping after the
  // mark (push outcomes, chunk_pushed) rides along later and is no lag (the backup's own rule).
  const dataSeq = viewOr<BackupViewState>(series, BACKUP_VIEW)?.last_data_seq ?? s.lastSeq;
  const tally = viewOr<LimiterTally>(series, LIMITERS_VIEW);
  return {
    survey: newest[SURVEY_EVENT] ?? null,
    backup: {
      pushedToSeq,
      lastSeq: s.lastSeq,
      lagEntries: Math.max(0, dataSeq - pushedToSeq),
      last: newest[BACKUP_EVENT] ?? null,
    },
    limiters: {
      values: liveValues ?? (tally?.last ? { ...tally.last.lim } : null),
      decisions: tally?.decisions ?? 0,
      yes: tally?.yes ?? 0,
      no: { ...(tally?.no ?? {}) },
      last: tally?.last
        ? { seq: tally.last.seq, r: tally.last.r, ...(tally.last.reason ? { reason: tally.last.reason } : {}) }
        : null,
    },
    series: {
      bytes: s.bytes,
      segments: s.segments,
      firstSeq: s.firstSeq,
      lastSeq: s.lastSeq,
      budgetBytes,
      headroomBytes: budgetBytes === null ? null : budgetBytes - s.bytes,
      damagedRecords: s.damagedRecords,
    },
    board: tally?.config?.board ?? null,
    device: tally?.config?.device ?? null,
    scannedEntries: missing.length === 0 ? 0 : Math.min(s.lastSeq, STATUS_SCAN_ENTRIES),
  };
}

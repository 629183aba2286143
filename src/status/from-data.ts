/**
 * A node's status from its data folder, read-only (no lock, no recovery truncation, no appends):
 * safe beside the running node, whose newest entries it sees once they are written.
 */
import { join } from 'node:path';
import { loadBoard } from '../../devices/boards/index.js';
import { backupView, chunksView } from '../chunks/index.js';
import { LIMITERS_VIEW, type LimiterTally, limitersView } from '../limiters/index.js';
import { SERIES_SUBDIR } from '../node/constants.js';
import { ROSTER_VIEW, type RosterState, rosterView } from '../presence/index.js';
import { createSeries, liveWriter } from '../series/index.js';
import type { View } from '../series/types.js';
import { readRecord } from '../supervise/index.js';
import {
  CONNECTION_VIEW,
  type ConnectionViewState,
  connectionView,
  SESSION_VIEW,
  sessionView,
} from '../transport/index.js';
import { BACKUP_EVENT, SURVEY_EVENT } from './constants.js';
import { recordedParts, viewOr } from './parts.js';
import type { NodeStatus } from './types.js';
import { statusView } from './view.js';

const VIEWS = [
  sessionView,
  connectionView,
  rosterView,
  limitersView,
  chunksView,
  backupView,
  statusView,
] as View<unknown>[];

/** Reads `{dataDir}/series`; the caller checks the folder is a node data folder first. */
export async function statusFromData(dataDir: string): Promise<NodeStatus> {
  const dir = join(dataDir, SERIES_SUBDIR);
  const pid = (await liveWriter(dir)) ?? null;
  const series = createSeries({ dir, readOnly: true, views: VIEWS });
  await series.open();
  try {
    const conn = series.view<ConnectionViewState>(CONNECTION_VIEW);
    const roster = series.view<RosterState>(ROSTER_VIEW);
    const board = viewOr<LimiterTally>(series, LIMITERS_VIEW)?.config?.board ?? null;
    let online = 0;
    for (const p of Object.values(roster)) if (p.online) online++;
    return {
      node: conn.node,
      roles: conn.roles,
      source: 'data',
      pid,
      session: series.view<number>(SESSION_VIEW),
      broker: conn.broker,
      connection: { state: conn.state, since: conn.state === null ? null : conn.t, reason: conn.reason },
      roster: { online, known: Object.keys(roster).length },
      ...(await recordedParts(series, ringBudgetOf(board), undefined, [SURVEY_EVENT, BACKUP_EVENT])),
      supervise: await superviseOf(dataDir),
    };
  } finally {
    await series.close();
  }
}

/** The supervision record beside the series (an absent one reads as empty). */
async function superviseOf(dataDir: string): Promise<NodeStatus['supervise']> {
  const r = await readRecord(dataDir);
  return { safeMode: r.safeMode, boot: r.boot, unsettledStarts: r.starts.length };
}

/** The ring budget of the board the node recorded; null for a board this build does not know. */
function ringBudgetOf(board: string | null): number | null {
  if (board === null) return null;
  try {
    return loadBoard(board).series.ringBudgetBytes;
  } catch {
    return null;
  }
}

/** `dameso status` text: a short aligned block of `key  value` lines. */
import { describeDevice } from '../../devices/boards/index.js';
import type { NodeStatus, RecordedEntry } from './types.js';
import { wearLine } from './wear.js';

const iso = (t: number | null | undefined): string => (typeof t === 'number' ? new Date(t).toISOString() : '-');

function mib(bytes: number): string {
  if (Math.abs(bytes) < 1048576) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

function running(s: NodeStatus): string {
  if (s.source === 'live') return `running (pid ${s.pid}, live)`;
  return s.pid === null ? 'not running' : `running (pid ${s.pid})`;
}

function connection(s: NodeStatus): string {
  const c = s.connection;
  if (c.state === null) return 'none recorded';
  // A recorded state of a node that is not running is history, not the present.
  const recorded = s.source === 'data' && s.pid === null ? 'last recorded: ' : '';
  return `${recorded}${c.state} since ${iso(c.since)}${c.reason ? ` (${c.reason})` : ''}`;
}

function survey(s: NodeStatus): string {
  const e = s.survey;
  if (e === null) {
    const searched = s.scannedEntries > 0 && s.series.lastSeq > s.scannedEntries;
    return searched ? `none in the newest ${s.scannedEntries} entries` : 'never';
  }
  const detail = [
    `round ${String(e.round ?? '?')}`,
    String(e.outcome ?? '?') + (e.reason !== undefined ? ` (${String(e.reason)})` : ''),
    ...(e.consensus !== undefined ? [`consensus ${String(e.consensus)}`] : []),
    ...(typeof e.low_confidence === 'number' && e.low_confidence > 0 ? [`low confidence ${e.low_confidence}`] : []),
  ];
  return `${detail.join(', ')} at ${iso(e.t)}`;
}

function backupEntry(e: RecordedEntry | null): string {
  if (e === null) return 'no backup entry';
  const parts = [String(e.state ?? '?')];
  if (e.k !== undefined) parts.push(`K=${String(e.k)}`);
  if (e.online !== undefined) parts.push(`${String(e.online)} storage online`);
  if (e.reason !== undefined) parts.push(String(e.reason));
  return `${parts.join(', ')} since ${iso(e.t)}`;
}

function limiters(s: NodeStatus): string {
  const l = s.limiters;
  const values =
    l.values === null
      ? 'no values'
      : Object.entries(l.values)
          .map(([k, v]) => `${k}=${v.toFixed(2)}`)
          .join(' ');
  const when = s.source === 'live' ? 'now' : l.last !== null ? `at decision seq ${l.last.seq}` : '';
  return when === '' ? values : `${values} (${when})`;
}

function decisions(s: NodeStatus): string {
  const l = s.limiters;
  const no = Object.entries(l.no).map(([k, n]) => `${k} ${n}`);
  const last =
    l.last === null ? '' : `; last ${l.last.r}${l.last.reason ? ` ${l.last.reason}` : ''} at seq ${l.last.seq}`;
  return `${l.decisions} (yes ${l.yes}${no.length > 0 ? `, no: ${no.join(', ')}` : ''})${last}`;
}

function seriesSize(s: NodeStatus): string {
  const x = s.series;
  const budget = x.budgetBytes === null ? '' : ` of ${mib(x.budgetBytes)}, headroom ${mib(x.headroomBytes ?? 0)}`;
  const damaged = x.damagedRecords > 0 ? `; ${x.damagedRecords} DAMAGED record(s) skipped (dameso series verify)` : '';
  return `${mib(x.bytes)} in ${x.segments} segment(s)${budget}; seq ${x.firstSeq}..${x.lastSeq}${damaged}`;
}

export function statusLines(s: NodeStatus): string[] {
  const rows: [string, string][] = [
    ['node', s.node ?? '- (no connection recorded)'],
    ['roles', s.roles.length > 0 ? s.roles.join(',') : '-'],
    ['process', running(s)],
    ['session', String(s.session)],
    ['broker', s.broker ?? '-'],
    ['connection', connection(s)],
    ['roster', `${s.roster.online} online / ${s.roster.known} known`],
    ['last survey', survey(s)],
    [
      'backup',
      `${backupEntry(s.backup.last)}; pushed to seq ${s.backup.pushedToSeq}, lag ${s.backup.lagEntries} entries` +
        tailNote(s),
    ],
    ['limiters', limiters(s)],
    ['decisions', decisions(s)],
    ['series', seriesSize(s)],
    ['board', boardLine(s)],
    ...(s.wear !== undefined ? [['wear', wearLine(s.wear, mib)] as [string, string]] : []),
    ...superviseRows(s),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
}

/** `safe mode` and `boot` rows, only when there is something to say. */
function superviseRows(s: NodeStatus): [string, string][] {
  const rows: [string, string][] = [];
  const safe = s.supervise?.safeMode;
  if (safe) {
    rows.push([
      'safe mode',
      `since ${iso(safe.since)}: ${safe.crashes} crashes at start within ${safe.windowMs / 60_000} min; presence and status only`,
    ]);
  }
  const last = s.supervise?.boot.last;
  if (s.supervise && s.supervise.boot.total > 0 && last) {
    rows.push([
      'boot',
      `${s.supervise.boot.total} refused start(s), last at ${iso(last.t)}: [${last.code}] ${last.message} ` +
        `(retry ${last.attempt + 1} after ${last.nextDelayMs / 1000} s)`,
    ]);
  }
  return rows;
}

/** `pi-4b (auto: Raspberry Pi 4 Model B Rev 1.4, 3.7 GiB RAM, memory budget 1.4 GiB)`. */
function boardLine(s: NodeStatus): string {
  if (s.board === null) return '-';
  const d = s.device;
  if (d === null) return s.board;
  return `${s.board} (auto: ${describeDevice(d)})`;
}

/**
 * A caught-up backup with entries after its mark: those are the tail the backup holds back until
 * it fills a chunk or has waited a minute (not a stalled backup).
 */
function tailNote(s: NodeStatus): string {
  return s.backup.last?.state === 'caught_up' && s.backup.lagEntries > 0
    ? ' (the newest entries wait to fill a chunk, or a minute)'
    : '';
}

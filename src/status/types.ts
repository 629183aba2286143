/**
 * What `dameso status` shows of a node, read from its series (`--data`) or from the running node
 * (`GET /status` on its metrics port): one shape for both, JSON-ready (plain data, ms timestamps).
 */
import type { DetectedDeviceRecord } from '../limiters/index.js';
import type { LimiterValues } from '../protocol/types.js';
import type { BootRefusalsRecord, SafeModeRecord } from '../supervise/index.js';
import type { Wear } from './wear.js';

export interface NodeStatus {
  /** Node id and roles, from the node (live) or its last `online` connection entry (null: never connected). */
  node: string | null;
  roles: string[];
  /** `data`: read from the series folder; `live`: from the running node. */
  source: 'data' | 'live';
  /** The pid of a live process holding the series lock (the node running), or null. */
  pid: number | null;
  session: number;
  broker: string | null;
  connection: {
    /** online, reconnecting, connecting, stopped (live); online, lost, back, stopped (recorded); null: never. */
    state: string | null;
    /** Wall-clock ms of the change. */
    since: number | null;
    reason: string | null;
  };
  roster: { online: number; known: number };
  /** The newest `survey` entry, or null. */
  survey: RecordedEntry | null;
  backup: {
    /** `chunks` view: highest own seq replicated K times. */
    pushedToSeq: number;
    lastSeq: number;
    /** Entries a backup round would push: the last non-replication seq − pushedToSeq. */
    lagEntries: number;
    /** The newest `backup` entry, or null. */
    last: RecordedEntry | null;
  };
  limiters: {
    /** Live values (live) or those recorded with the newest decision (data); null when none. */
    values: LimiterValues | null;
    decisions: number;
    yes: number;
    no: Record<string, number>;
    last: { seq: number; r: string; reason?: string } | null;
  };
  series: {
    bytes: number;
    segments: number;
    firstSeq: number;
    lastSeq: number;
    /** The ring budget (null when the board is unknown); headroom = budget − bytes. */
    budgetBytes: number | null;
    headroomBytes: number | null;
    /** Damaged records the open skipped (see `dameso series verify`). */
    damagedRecords: number;
  };
  /** The board profile whose budgets the node ran with (its newest `limiter_config`), or null. */
  board: string | null;
  /** Live only: the series writer's bytes and syncs since start, per hour, and the board's write budget. */
  wear?: Wear;
  /**
   * The supervision record of the data folder (from `dameso node`'s metrics port live; null from a
   * node built without the command): safe mode and why, the
   * refused start attempts of this boot, starts not yet proven clean.
   */
  supervise: { safeMode: SafeModeRecord | null; boot: BootRefusalsRecord; unsettledStarts: number } | null;
  /** With `--device auto`: the model detected, the RAM and the memory budget scaled to it; else null. */
  device: DetectedDeviceRecord | null;
  /** How many newest entries were searched for `survey` and `backup` (0: the status view held them, or live). */
  scannedEntries: number;
}

/** An entry as status shows it: its fields besides `event`. */
export type RecordedEntry = { seq: number; t: number } & Record<string, unknown>;

/**
 * Crashes at start and safe mode. `beginStart()` reads the record, counts the starts left
 * unsettled within `CRASH_WINDOW_MS` (each one a process that died while starting), decides safe
 * mode at `CRASHES_FOR_SAFE_MODE`, and records this start before anything that could crash runs.
 * A start that stays online `CLEAN_RUN_MS` clears the record; a clean stop (or a refusal to start
 * for a bad flag or config, which no restart repairs) settles its own start.
 */
import { mkdir } from 'node:fs/promises';
import type { Clock } from '../clock.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import { CLEAN_RUN_MS, CRASH_WINDOW_MS, CRASHES_FOR_SAFE_MODE, MAX_RECORDED_STARTS } from './constants.js';
import { DataFolderUnwritableError } from './errors.js';
import {
  type BootRefusalsRecord,
  readRecord,
  type SafeModeRecord,
  type SuperviseRecord,
  writeRecord,
} from './record.js';

export interface StartSupervision {
  /** Set when this start runs in safe mode: why. */
  readonly safeMode: SafeModeRecord | undefined;
  /** The record as `dameso status` shows it. */
  summary(): { safeMode: SafeModeRecord | null; boot: BootRefusalsRecord; unsettledStarts: number };
  /** Refused start attempts of this process (never reset while it runs: a counter). */
  readonly refusedAttempts: number;
  /** Counts a refused start attempt (boot retries) in the record, for `dameso status`. */
  noteRefusal(r: { code: string; message: string; attempt: number; nextDelayMs: number }): Promise<void>;
  /** Online: after `CLEAN_RUN_MS` still running, the record is cleared (unless in safe mode). */
  online(): void;
  /** A clean stop or a refusal that is no crash: this start leaves the record. */
  settle(): Promise<void>;
}

export interface BeginOptions {
  dataDir: string;
  clock: Clock;
  log: Logger;
  /** Default `CLEAN_RUN_MS`. */
  cleanRunMs?: number;
}

/** Crashes at start in the window (a start stamped in the future counts: the wall clock was set back). */
export function crashesWithin(starts: readonly number[], now: number, windowMs = CRASH_WINDOW_MS): number {
  return starts.filter((t) => t > now - windowMs).length;
}

export async function beginStart(o: BeginOptions): Promise<StartSupervision> {
  const now = o.clock.now();
  const record = await readRecord(o.dataDir);
  const crashes = crashesWithin(record.starts, now);
  const safeMode: SafeModeRecord | undefined =
    crashes >= CRASHES_FOR_SAFE_MODE ? { since: now, crashes, windowMs: CRASH_WINDOW_MS } : undefined;
  record.safeMode = safeMode ?? null;
  record.starts = [...record.starts, now].slice(-MAX_RECORDED_STARTS);
  try {
    await mkdir(o.dataDir, { recursive: true });
    await writeRecord(o.dataDir, record);
  } catch (err) {
    throw new DataFolderUnwritableError(o.dataDir, err);
  }
  return new Supervision(o, record, now, safeMode);
}

class Supervision implements StartSupervision {
  private cleanTimer: ReturnType<Clock['setTimeout']> | undefined;
  /** Writes one after the other, so the file ends as the newest state. */
  private writes: Promise<void> = Promise.resolve();
  refusedAttempts = 0;

  constructor(
    private readonly o: BeginOptions,
    private readonly record: SuperviseRecord,
    private readonly startedAt: number,
    readonly safeMode: SafeModeRecord | undefined,
  ) {}

  summary() {
    const r = structuredClone(this.record);
    return { safeMode: r.safeMode, boot: r.boot, unsettledStarts: r.starts.length };
  }

  noteRefusal(r: { code: string; message: string; attempt: number; nextDelayMs: number }): Promise<void> {
    this.refusedAttempts++;
    this.record.boot = { total: this.record.boot.total + 1, last: { ...r, t: this.o.clock.now() } };
    return this.save();
  }

  online(): void {
    if (this.safeMode !== undefined || this.cleanTimer !== undefined) return;
    this.cleanTimer = this.o.clock.setTimeout(() => {
      this.record.starts = [];
      this.record.boot = { total: 0, last: null };
      void this.save();
    }, this.o.cleanRunMs ?? CLEAN_RUN_MS);
  }

  settle(): Promise<void> {
    this.o.clock.clearTimeout(this.cleanTimer);
    const i = this.record.starts.lastIndexOf(this.startedAt);
    if (i >= 0) this.record.starts.splice(i, 1);
    return this.save();
  }

  private save(): Promise<void> {
    const snapshot = structuredClone(this.record);
    this.writes = this.writes
      .then(() => writeRecord(this.o.dataDir, snapshot))
      .catch((err: unknown) => this.o.log.warn({ err: messageOf(err) }, 'supervise: could not write the record'));
    return this.writes;
  }
}

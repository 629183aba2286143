/**
 * The supervision record, `{data}/supervise.json`: the starts that have not yet proven clean (a
 * process that dies before `CLEAN_RUN_MS` online leaves its start there: that is a crash at start,
 * whatever killed it, SIGKILL and OOM included), the safe mode the node is in and why, and the
 * refusals met at boot. Small JSON, replaced atomically (temporary file, fsync, rename, fsync of
 * the folder), so a power cut leaves the old record or the new one.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomic } from '../atomic-write.js';
import { MAX_RECORDED_STARTS, SUPERVISE_FILE } from './constants.js';

export interface SafeModeRecord {
  /** Wall-clock ms the safe start began. */
  since: number;
  /** Crashes at start counted in the window. */
  crashes: number;
  windowMs: number;
}

export interface BootRefusalsRecord {
  /** Refused start attempts of the current boot (reset by a clean run). */
  total: number;
  /** The newest one. */
  last: { code: string; message: string; t: number; attempt: number; nextDelayMs: number } | null;
}

export interface SuperviseRecord {
  v: 1;
  /** Wall-clock ms of starts not yet proven clean, oldest first (at most `MAX_RECORDED_STARTS`). */
  starts: number[];
  safeMode: SafeModeRecord | null;
  boot: BootRefusalsRecord;
}

export const emptyRecord = (): SuperviseRecord => ({
  v: 1,
  starts: [],
  safeMode: null,
  boot: { total: 0, last: null },
});

export const recordPath = (dataDir: string): string => join(dataDir, SUPERVISE_FILE);

/** The record in `dataDir`; an absent or unreadable one reads as empty (it only ever adds caution). */
export async function readRecord(dataDir: string): Promise<SuperviseRecord> {
  let text: string;
  try {
    text = await readFile(recordPath(dataDir), 'utf8');
  } catch {
    return emptyRecord();
  }
  try {
    return sane(JSON.parse(text));
  } catch {
    return emptyRecord();
  }
}

function sane(v: unknown): SuperviseRecord {
  const r = emptyRecord();
  if (typeof v !== 'object' || v === null) return r;
  const o = v as Partial<SuperviseRecord>;
  if (Array.isArray(o.starts)) r.starts = o.starts.filter((t) => Number.isFinite(t)).slice(-MAX_RECORDED_STARTS);
  if (o.safeMode && Number.isFinite(o.safeMode.since)) r.safeMode = o.safeMode;
  if (o.boot && Number.isFinite(o.boot.total)) r.boot = o.boot;
  return r;
}

/** Replaces the record atomically. */
export async function writeRecord(dataDir: string, record: SuperviseRecord): Promise<void> {
  const file = recordPath(dataDir);
  // The temp name starts with the record's name: a folder holding only these still counts as
  // "nothing but the supervision record" when a refused first start removes it.
  const tempPath = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeAtomic(file, `${JSON.stringify(record)}\n`, { mode: 0o640, tempPath });
}

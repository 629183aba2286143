/**
 * Storage wear from the series writer's counters: bytes written and syncs per hour since the node
 * started, and, with the board profile's write budget (an estimate for its card class), how many
 * years the budget lasts at that rate. The rate counts each sync as at least SYNC_WEAR_BYTES.
 */
import { SYNC_WEAR_BYTES, WEAR_MIN_SPAN_MS } from './constants.js';

const MS_PER_HOUR = 3_600_000;
const HOURS_PER_YEAR = 24 * 365.25;

export interface WearCounts {
  writtenBytes: number;
  syncs: number;
  /** ms the counts cover. */
  sinceMs: number;
}

export interface Wear {
  writtenBytes: number;
  syncs: number;
  /** Over the whole span; null before WEAR_MIN_SPAN_MS of running. */
  bytesPerHour: number | null;
  syncsPerHour: number | null;
  /** The board profile's write budget, bytes (null: the profile has none). */
  budgetBytes: number | null;
  /** Years the budget lasts at this rate (bytes + syncs × SYNC_WEAR_BYTES); null when unknown or no writes. */
  budgetYears: number | null;
}

export function wearOf(counts: WearCounts, budgetBytes: number | undefined): Wear {
  const hours = counts.sinceMs / MS_PER_HOUR;
  const known = counts.sinceMs >= WEAR_MIN_SPAN_MS;
  const bytesPerHour = known ? counts.writtenBytes / hours : null;
  const syncsPerHour = known ? counts.syncs / hours : null;
  const wearPerHour =
    bytesPerHour === null || syncsPerHour === null ? 0 : bytesPerHour + syncsPerHour * SYNC_WEAR_BYTES;
  const budgetYears = budgetBytes !== undefined && wearPerHour > 0 ? budgetBytes / wearPerHour / HOURS_PER_YEAR : null;
  return {
    writtenBytes: counts.writtenBytes,
    syncs: counts.syncs,
    bytesPerHour,
    syncsPerHour,
    budgetBytes: budgetBytes ?? null,
    budgetYears,
  };
}

/** `written 1.2 MiB/h, 3600 syncs/h; at this rate the card's write budget (4 TB, estimate) lasts ~63 years`. */
export function wearLine(w: Wear, size: (bytes: number) => string): string {
  if (w.bytesPerHour === null || w.syncsPerHour === null) {
    return `written ${size(w.writtenBytes)}, ${w.syncs} syncs since start (a rate after a minute)`;
  }
  const rate = `written ${size(w.bytesPerHour)}/h, ${Math.round(w.syncsPerHour)} syncs/h`;
  if (w.budgetBytes === null) return `${rate}; no write budget in the board profile`;
  const budget = `${(w.budgetBytes / 1e12).toFixed(0)} TB, estimate`;
  if (w.budgetYears === null) return `${rate}; write budget ${budget}`;
  const years =
    w.budgetYears >= 100 ? '100+' : w.budgetYears >= 10 ? w.budgetYears.toFixed(0) : w.budgetYears.toFixed(1);
  return `${rate}; at this rate the card's write budget (${budget}) lasts ~${years} years`;
}

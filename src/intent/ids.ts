/**
 * Intent ids: ULIDs (docs/protocol.md §5.2) made cheaply. The 80-bit random part is drawn
 * once per process and then incremented (monotonic ULID), so ids stay unique and sortable without
 * asking the kernel for randomness per intent (that was ~2% of a busy node's CPU).
 */
import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;

let lastMs = -1;
/** Random part as 16 base-32 digits, most significant first. */
const digits: number[] = [];
/**
 * Text cached between ids (a ULID is 26 characters, built one by one per id otherwise): the time
 * part for `timeTextMs`, and the first 15 random digits, which change only on a carry.
 */
let timeText = '';
let timeTextMs = -1;
let headText: string | undefined;

function reseed(): void {
  const bytes = randomBytes(RANDOM_CHARS);
  digits.length = 0;
  for (let i = 0; i < RANDOM_CHARS; i++) digits.push((bytes[i] ?? 0) & 31);
  // Leave headroom so increments within one ms never overflow the 80 bits.
  digits[0] = (digits[0] ?? 0) & 15;
  headText = undefined;
}

function increment(): void {
  for (let i = RANDOM_CHARS - 1; i >= 0; i--) {
    const d = (digits[i] ?? 0) + 1;
    if (d < 32) {
      digits[i] = d;
      return;
    }
    digits[i] = 0;
    headText = undefined; // a carry changes the digits before the last one
  }
}

/** A monotonic ULID for wall time `nowMs`. */
export function nextIntentId(nowMs: number): string {
  if (digits.length === 0) reseed();
  if (nowMs > lastMs) lastMs = nowMs;
  // Same (or earlier: wall clock jumped back) ms: keep the last time and count up.
  increment();
  if (lastMs !== timeTextMs) {
    let time = '';
    let t = Math.max(0, Math.floor(lastMs));
    for (let i = 0; i < TIME_CHARS; i++) {
      time = CROCKFORD[t % 32] + time;
      t = Math.floor(t / 32);
    }
    timeText = time;
    timeTextMs = lastMs;
  }
  if (headText === undefined) {
    headText = '';
    for (let i = 0; i < RANDOM_CHARS - 1; i++) headText += CROCKFORD[digits[i] ?? 0];
  }
  return timeText + headText + CROCKFORD[digits[RANDOM_CHARS - 1] ?? 0];
}

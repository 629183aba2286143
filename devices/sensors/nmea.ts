/**
 * Pure NMEA 0183 parsing: checksum, GGA and RMC from any talker. No I/O.
 * NMEA 0183 §5.3: `$` + fields separated by `,` + `*` + two hex digits, the XOR of every
 * character between `$` and `*`.
 */
import { NMEA_MAX_SENTENCE_CHARS } from './constants.js';

export type NmeaRejectReason = 'not_nmea' | 'bad_checksum' | 'no_checksum' | 'too_long' | 'no_fix' | 'malformed';

/** GGA fix quality codes defined by NMEA 0183 (0 invalid … 8 simulation). */
const MAX_GGA_QUALITY = 8;

export interface NmeaPosition {
  sentence: 'GGA' | 'RMC';
  talker: string;
  lat: number;
  lon: number;
  /**
   * GGA quality; RMC mode A → 1, D → 2, R → 4, F → 5, E → 6, M → 7, S → 8. Absent for an RMC
   * without the mode field (NMEA 2.2 and older): the sentence says nothing of the fix quality.
   */
  quality?: number;
  utcMs: number;
  dated: boolean;
  altM?: number;
  satellites?: number;
}

export type NmeaResult =
  | { ok: true; position: NmeaPosition }
  | { ok: false; reason: NmeaRejectReason }
  /** A valid sentence of a type we do not use (GSV, GSA, VTG, proprietary…). */
  | { ok: 'ignored'; type: string };

/** XOR of the characters between `$` and `*`, as two uppercase hex digits. */
export function nmeaChecksum(body: string): string {
  let c = 0;
  for (let i = 0; i < body.length; i++) c ^= body.charCodeAt(i);
  return c.toString(16).toUpperCase().padStart(2, '0');
}

/** `ddmm.mmmm` (lat) or `dddmm.mmmm` (lon) plus hemisphere to signed decimal degrees. */
export function nmeaDegrees(value: string, hemi: string, degDigits: 2 | 3): number | undefined {
  if (!/^\d+(\.\d+)?$/.test(value) || value.split('.')[0]?.length !== degDigits + 2) {
    return undefined;
  }
  const deg = Number(value.slice(0, degDigits));
  const min = Number(value.slice(degDigits));
  if (min >= 60) return undefined;
  const abs = deg + min / 60;
  if (abs > (degDigits === 2 ? 90 : 180)) return undefined;
  if (hemi === 'N' || hemi === 'E') return abs;
  if (hemi === 'S' || hemi === 'W') return -abs;
  return undefined;
}

/** `hhmmss(.sss)` to ms since UTC midnight. */
function parseTime(s: string): number | undefined {
  const m = /^(\d{2})(\d{2})(\d{2}(?:\.\d+)?)$/.exec(s);
  if (!m) return undefined;
  const h = Number(m[1]);
  const mi = Number(m[2]);
  const sec = Number(m[3]);
  if (h > 23 || mi > 59 || sec >= 61) return undefined;
  return Math.round(((h * 60 + mi) * 60 + sec) * 1000);
}

/** `ddmmyy` to ms since the epoch at UTC midnight (years 80–99 → 19xx, else 20xx). */
function parseDate(s: string): number | undefined {
  const m = /^(\d{2})(\d{2})(\d{2})$/.exec(s);
  if (!m) return undefined;
  const d = Number(m[1]);
  const mo = Number(m[2]);
  const yy = Number(m[3]);
  if (d < 1 || d > 31 || mo < 1 || mo > 12) return undefined;
  return Date.UTC(yy >= 80 ? 1900 + yy : 2000 + yy, mo - 1, d);
}

const RMC_MODE_QUALITY: Record<string, number> = { A: 1, D: 2, R: 4, F: 5, E: 6, S: 8, M: 7 };

/**
 * The sentence a received line holds. Serial lines carry noise: NUL bytes or garbage before a
 * sentence, a sentence cut off by a receiver reset and followed by a whole one on the same line,
 * and some receivers end lines `\r\r\n` (the line framer leaves a `\r`). `$` cannot occur inside a
 * sentence (NMEA 0183 §5.1: reserved), so like gpsd we resynchronise at the last `$`.
 */
export function sentenceOf(line: string): string {
  const at = line.lastIndexOf('$');
  const from = at > 0 ? line.slice(at) : line;
  return from.replace(/[\r\n\0 ]+$/, '');
}

/** Parse one line (without its line ending; see `sentenceOf` for the noise it tolerates). */
export function parseNmea(received: string): NmeaResult {
  const line = sentenceOf(received);
  if (!line.startsWith('$')) return { ok: false, reason: 'not_nmea' };
  if (line.length > NMEA_MAX_SENTENCE_CHARS) return { ok: false, reason: 'too_long' };
  const star = line.lastIndexOf('*');
  if (star < 0) return { ok: false, reason: 'no_checksum' };
  const body = line.slice(1, star);
  if (line.slice(star + 1).toUpperCase() !== nmeaChecksum(body)) {
    return { ok: false, reason: 'bad_checksum' };
  }
  const f = body.split(',');
  const head = f[0] ?? '';
  if (head.startsWith('P') || head.length !== 5) return { ok: 'ignored', type: head };
  const talker = head.slice(0, 2);
  const type = head.slice(2);
  if (type === 'GGA') return parseGga(f, talker);
  if (type === 'RMC') return parseRmc(f, talker);
  return { ok: 'ignored', type };
}

// GGA: time,lat,N/S,lon,E/W,quality,sats,hdop,alt,M,geoid,M,age,station
function parseGga(f: string[], talker: string): NmeaResult {
  if (f.length < 10) return { ok: false, reason: 'malformed' };
  // A receiver without a fix may send every field empty: that is no fix, not a broken sentence.
  if (f.slice(1).every((x) => x === '')) return { ok: false, reason: 'no_fix' };
  const quality = Number(f[6]);
  if (!/^\d$/.test(f[6] ?? '') || quality > MAX_GGA_QUALITY) return { ok: false, reason: 'malformed' };
  if (quality === 0 || !f[2] || !f[4]) return { ok: false, reason: 'no_fix' };
  const lat = nmeaDegrees(f[2] ?? '', f[3] ?? '', 2);
  const lon = nmeaDegrees(f[4] ?? '', f[5] ?? '', 3);
  const utcMs = parseTime(f[1] ?? '');
  if (lat === undefined || lon === undefined || utcMs === undefined) {
    return { ok: false, reason: 'malformed' };
  }
  const position: NmeaPosition = { sentence: 'GGA', talker, lat, lon, quality, utcMs, dated: false };
  const alt = f[9] ? Number(f[9]) : Number.NaN;
  if (Number.isFinite(alt)) position.altM = alt;
  const sats = f[7] ? Number(f[7]) : Number.NaN;
  if (Number.isInteger(sats)) position.satellites = sats;
  return { ok: true, position };
}

// RMC: time,status,lat,N/S,lon,E/W,speed,course,date,magvar,E/W[,mode[,navstatus]]
function parseRmc(f: string[], talker: string): NmeaResult {
  if (f.length < 10) return { ok: false, reason: 'malformed' };
  // Status V = receiver warning (no valid fix); NMEA 2.3 mode N = data not valid.
  if (f[2] !== 'A' || f[12] === 'N') return { ok: false, reason: 'no_fix' };
  const lat = nmeaDegrees(f[3] ?? '', f[4] ?? '', 2);
  const lon = nmeaDegrees(f[5] ?? '', f[6] ?? '', 3);
  const time = parseTime(f[1] ?? '');
  const date = parseDate(f[9] ?? '');
  if (lat === undefined || lon === undefined || time === undefined) {
    return { ok: false, reason: 'malformed' };
  }
  const dated = date !== undefined;
  const position: NmeaPosition = { sentence: 'RMC', talker, lat, lon, utcMs: (date ?? 0) + time, dated };
  const mode = f[12];
  if (mode !== undefined && mode !== '') position.quality = RMC_MODE_QUALITY[mode] ?? 1;
  return { ok: true, position };
}

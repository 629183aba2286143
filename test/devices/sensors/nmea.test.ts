import { describe, expect, it } from 'vitest';
import { nmeaChecksum, parseNmea } from '../../../devices/sensors/index.js';

// Sentences of our own (not from the fixtures), checksums computed independently by hand tools.
const GGA_NW = '$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47';
const RMC_OK = '$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A';

const sign = (body: string): string => `$${body}*${nmeaChecksum(body)}`;

describe('parseNmea', () => {
  it('parses the textbook GGA (NMEA 0183 example) with position, quality, altitude', () => {
    const r = parseNmea(GGA_NW);
    expect(r.ok).toBe(true);
    if (r.ok !== true) return;
    expect(r.position.sentence).toBe('GGA');
    expect(r.position.talker).toBe('GP');
    expect(r.position.lat).toBeCloseTo(48 + 7.038 / 60, 9);
    expect(r.position.lon).toBeCloseTo(11 + 31 / 60, 9);
    expect(r.position.quality).toBe(1);
    expect(r.position.altM).toBe(545.4);
    expect(r.position.satellites).toBe(8);
    expect(r.position.utcMs).toBe((12 * 3600 + 35 * 60 + 19) * 1000);
    expect(r.position.dated).toBe(false);
  });

  it('parses RMC with its date (1994-03-23) into epoch ms', () => {
    const r = parseNmea(RMC_OK);
    if (r.ok !== true) throw new Error(`rejected: ${JSON.stringify(r)}`);
    expect(r.position.utcMs).toBe(Date.UTC(1994, 2, 23, 12, 35, 19));
    expect(r.position.dated).toBe(true);
  });

  it('signs southern and western hemispheres negative, from any talker', () => {
    const r = parseNmea(sign('GBGGA,010203.00,3345.5000,S,07030.0000,W,4,12,0.7,10.0,M,0.0,M,,'));
    if (r.ok !== true) throw new Error('rejected');
    expect(r.position.talker).toBe('GB');
    expect(r.position.lat).toBeCloseTo(-33.758333, 5);
    expect(r.position.lon).toBeCloseTo(-70.5, 9);
    expect(r.position.quality).toBe(4);
  });

  it('rejects a wrong checksum, a missing checksum and a non-NMEA line by reason', () => {
    expect(parseNmea(GGA_NW.replace('*47', '*48'))).toEqual({ ok: false, reason: 'bad_checksum' });
    expect(parseNmea(GGA_NW.replace('4807.038', '4807.039'))).toEqual({ ok: false, reason: 'bad_checksum' });
    expect(parseNmea(GGA_NW.slice(0, -3))).toEqual({ ok: false, reason: 'no_checksum' });
    expect(parseNmea('temp=21')).toEqual({ ok: false, reason: 'not_nmea' });
  });

  it('rejects no-fix sentences: GGA quality 0, RMC status V, RMC mode N', () => {
    expect(parseNmea(sign('GPGGA,053229.438,,,,,0,00,,,M,0.0,M,,0000'))).toEqual({ ok: false, reason: 'no_fix' });
    expect(parseNmea(sign('GNRMC,053229.438,V,,,,,,,020315,,,N'))).toEqual({ ok: false, reason: 'no_fix' });
    expect(parseNmea(sign('GPRMC,123519,A,4807.038,N,01131.000,E,0,0,230394,,,N'))).toEqual({
      ok: false,
      reason: 'no_fix',
    });
  });

  it('rejects impossible coordinates as malformed and ignores other sentence types', () => {
    expect(parseNmea(sign('GPGGA,123519,4867.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,'))).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(parseNmea(sign('GPGGA,123519,4807.038,X,01131.000,E,1,08,0.9,545.4,M,46.9,M,,'))).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(parseNmea('$GPGSA,A,3,17,28,06,01,30,20,26,13,,,,,1.8,1.1,1.5*33')).toEqual({ ok: 'ignored', type: 'GSA' });
    expect(parseNmea('$PSRFEPE,053229.438,V,,,,,*23')).toEqual({ ok: 'ignored', type: 'PSRFEPE' });
  });

  it('finds a sentence again at its $ after garbage, NUL bytes or a cut sentence on the same line', () => {
    const lat = (r: ReturnType<typeof parseNmea>) => (r.ok === true ? r.position.lat : r);
    expect(lat(parseNmea(`\u0000\u0000\u0000${GGA_NW}`))).toBeCloseTo(48 + 7.038 / 60, 9);
    expect(lat(parseNmea(`xx#!garbage${GGA_NW}`))).toBeCloseTo(48 + 7.038 / 60, 9);
    // A receiver reset mid-sentence: the cut RMC, then a whole GGA on the same line.
    expect(lat(parseNmea(`$GPRMC,123519,A,4807.0${GGA_NW}`))).toBeCloseTo(48 + 7.038 / 60, 9);
    // Only the cut sentence: still refused (its checksum field is someone else's).
    expect(parseNmea('$GPRMC,123519,A,4807.0').ok).toBe(false);
  });

  it('accepts a line ending \\r\\r\\n (the framer leaves one \\r) and trailing NULs', () => {
    expect(parseNmea(`${GGA_NW}\r`).ok).toBe(true);
    expect(parseNmea(`${RMC_OK}\r\u0000`).ok).toBe(true);
  });

  it('an RMC without the mode field (NMEA 2.2) states no quality; with one, the mode maps', () => {
    const old = parseNmea(RMC_OK);
    if (old.ok !== true) throw new Error('rejected');
    expect(old.position.quality).toBeUndefined();
    const withMode = parseNmea(sign('GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W,D'));
    if (withMode.ok !== true) throw new Error('rejected');
    expect(withMode.position.quality).toBe(2);
  });

  it('an all-empty GGA is no fix, not malformed; a quality outside 0-8 is malformed', () => {
    expect(parseNmea(sign('GPGGA,,,,,,,,,,,,,,'))).toEqual({ ok: false, reason: 'no_fix' });
    expect(parseNmea(sign('GPGGA,123519,4807.038,N,01131.000,E,9,08,0.9,545.4,M,46.9,M,,'))).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(parseNmea(sign('GPGGA,123519,4807.038,N,01131.000,E,8,08,0.9,545.4,M,46.9,M,,')).ok).toBe(true);
  });
});

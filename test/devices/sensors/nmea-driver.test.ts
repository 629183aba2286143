import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createNmeaGps, type FixReading, nmeaChecksum, type Reading } from '../../../devices/sensors/index.js';
import { createManualClock } from '../../../src/clock.js';
import { type MockPort, openMockPort } from '../../helpers/observe-serial.js';

// The shared captures are read in place: ../shared/fixtures/nmea beside the repository.
const HERE = dirname(fileURLToPath(import.meta.url));
const FIXTURES = resolve(HERE, '../../../../shared/fixtures/nmea');
const haveFixtures = existsSync(FIXTURES);
if (!haveFixtures) {
  console.warn(`NMEA fixture captures not found at ${FIXTURES}: the capture suites are skipped`);
}

let mock: MockPort | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

async function drive(data: string | string[]) {
  mock = await openMockPort();
  const gps = createNmeaGps(mock.port, { clock: createManualClock() });
  const fixes: FixReading[] = [];
  gps.onReading((r: Reading) => {
    if (r.kind === 'fix') fixes.push(r);
  });
  gps.start();
  for (const piece of Array.isArray(data) ? data : [data]) await mock.feed(piece);
  await gps.stop();
  return { fixes, stats: gps.stats() };
}

const sign = (body: string): string => `$${body}*${nmeaChecksum(body)}`;
const OWN = [
  sign('GPGGA,101010.00,5130.0000,N,00007.5000,W,1,07,1.0,20.0,M,47.0,M,,'),
  sign('GPRMC,101010.00,A,5130.0000,N,00007.5000,W,0.1,0.0,251126,,,A'),
  '$GPGGA,101011.00,5130.0000,N,00007.5000,W,1,07,1.0,20.0,M,47.0,M,,*00', // bad checksum
  sign('GPGSV,1,1,01,01,40,083,46'),
  sign('GNGGA,101012.00,,,,,0,00,,,M,,M,,'), // no fix
];

describe('NMEA GPS driver through the mock serial binding (own sentences)', () => {
  for (const [name, eol] of [
    ['CRLF', '\r\n'],
    ['LF', '\n'],
  ] as const) {
    it(`reads ${name}-framed sentences and counts every rejection by reason`, async () => {
      const { fixes, stats } = await drive(OWN.map((l) => l + eol).join(''));
      expect(fixes.map((f) => f.sentence)).toEqual(['GGA', 'RMC']);
      expect(fixes[0]?.lat).toBeCloseTo(51.5, 9);
      expect(fixes[0]?.lon).toBeCloseTo(-0.125, 9);
      expect(fixes[1]?.utcMs).toBe(Date.UTC(2026, 10, 25, 10, 10, 10));
      expect(stats).toMatchObject({ lines: 5, fixes: 2, bad_checksum: 1, no_fix: 1, ignored: 1 });
    });
  }

  it('an RMC without a mode field keeps the quality the last GGA gave (DGPS stays 2)', async () => {
    const { fixes } = await drive(
      [
        sign('GPGGA,101010.00,5130.0000,N,00007.5000,W,2,07,1.0,20.0,M,47.0,M,,'),
        sign('GPRMC,101010.00,A,5130.0000,N,00007.5000,W,0.1,0.0,251126,,'),
      ]
        .map((l) => `${l}\r\r\n`)
        .join(''),
    );
    expect(fixes.map((f) => [f.sentence, f.quality])).toEqual([
      ['GGA', 2],
      ['RMC', 2],
    ]);
  });

  it('an RMC without a mode field and no GGA before it counts as a GPS fix (quality 1)', async () => {
    const { fixes } = await drive(`${sign('GPRMC,101010.00,A,5130.0000,N,00007.5000,W,0.1,0.0,251126,,')}\r\n`);
    expect(fixes.map((f) => f.quality)).toEqual([1]);
  });

  it('joins partial lines split across reads, byte by byte', async () => {
    const text = `${OWN[0]}\r\n${OWN[1]}\r\n`;
    const { fixes, stats } = await drive([...text]);
    expect(fixes).toHaveLength(2);
    expect(stats.lines).toBe(2);
  });

  it('drops an overlong garbage run without a line end, then recovers', async () => {
    const { fixes, stats } = await drive([`${'x'.repeat(5000)}`, `junk\r\n${OWN[0]}\r\n`]);
    expect(stats.overlong).toBe(1);
    expect(fixes).toHaveLength(1);
  });
});

describe.skipIf(!haveFixtures)(`NMEA GPS driver on real captures in ${FIXTURES}`, () => {
  const load = (name: string): string[] =>
    readFileSync(resolve(FIXTURES, name), 'latin1')
      .split('\n')
      .map((l) => l.replace(/\r$/, ''))
      .filter((l) => l.startsWith('$'));

  for (const [name, eol] of [
    ['CRLF', '\r\n'],
    ['LF', '\n'],
  ] as const) {
    it(`bu353s4 (SiRF IV, $GP): 50 fixes in the southern/eastern hemisphere, ${name}`, async () => {
      const { fixes, stats } = await drive(
        load('bu353s4.log')
          .map((l) => l + eol)
          .join(''),
      );
      expect(stats).toMatchObject({ lines: 90, fixes: 50, gga: 25, rmc: 25, ignored: 40 });
      expect(stats.bad_checksum ?? 0).toBe(0);
      for (const f of fixes) {
        expect(f.lat).toBeGreaterThan(-37.8);
        expect(f.lat).toBeLessThan(-37.78);
        expect(f.lon).toBeGreaterThan(175.31);
        expect(f.lon).toBeLessThan(175.32);
      }
    });
  }

  it('hab-gpspi (u-blox, $GN, 5-decimal minutes): fixes near Laxenburg', async () => {
    const { fixes, stats } = await drive(
      load('hab-gpspi.log')
        .map((l) => `${l}\n`)
        .join(''),
    );
    expect(stats).toMatchObject({ fixes: 6, ignored: 33 });
    expect(fixes.every((f) => f.talker === 'GN')).toBe(true);
    expect(fixes[0]?.lat).toBeCloseTo(48 + 4.14539 / 60, 9);
    expect(fixes[0]?.lon).toBeCloseTo(16 + 21.54005 / 60, 9);
  });

  it('beidou-gb (SiRF-TriG, $GB): no fix (GGA 0, RMC V) counted, then fix', async () => {
    const raw = readFileSync(resolve(FIXTURES, 'beidou-gb.log'), 'latin1'); // CRLF as captured
    const { fixes, stats } = await drive(raw);
    expect(stats).toMatchObject({ fixes: 4, no_fix: 6, ignored: 58 });
    expect(fixes.map((f) => f.sentence)).toEqual(['GGA', 'RMC', 'GGA', 'RMC']);
    expect(fixes[1]?.utcMs).toBe(Date.UTC(2015, 2, 2, 5, 32, 32, 438));
    expect(fixes[0]?.lat).toBeCloseTo(31 + 14.8789 / 60, 9);
  });

  it('nmea-fuzzy-cases (Trimble RTK): 8-decimal minutes, DGPS (2) and RTK (4) qualities', async () => {
    const { fixes, stats } = await drive(
      load('nmea-fuzzy-cases.log')
        .map((l) => `${l}\r\n`)
        .join(''),
    );
    expect(stats.fixes).toBe(28);
    const qualities = fixes.filter((f) => f.sentence === 'GGA').map((f) => f.quality);
    expect(qualities.filter((q) => q === 2)).toHaveLength(10);
    expect(qualities.filter((q) => q === 4)).toHaveLength(4);
    expect(fixes[0]?.lat).toBeCloseTo(41 + 34.49821229 / 60, 10);
    expect(fixes[0]?.lon).toBeCloseTo(-(93 + 45.03351845 / 60), 10);
  });

  it('a capture split at arbitrary points across writes gives the same fixes', async () => {
    const text = load('bu353s4.log')
      .map((l) => `${l}\r\n`)
      .join('');
    const pieces: string[] = [];
    for (let i = 0; i < text.length; i += 37) pieces.push(text.slice(i, i + 37));
    const split = await drive(pieces);
    const whole = await drive(text);
    expect(split.fixes.map((f) => [f.lat, f.lon, f.utcMs])).toEqual(whole.fixes.map((f) => [f.lat, f.lon, f.utcMs]));
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import {
  createLineSensor,
  createNmeaGps,
  createSimulatedSensor,
  nmeaChecksum,
  type SensorDriver,
  smoothField,
} from '../../devices/sensors/index.js';
import { createManualClock } from '../../src/clock.js';
import { silentLogger } from '../../src/log.js';
import {
  cellOf,
  createCellIndexView,
  createObserver,
  DEFAULT_CELL_PRECISION,
  DEFAULT_MAX_FIX_AGE_MS,
} from '../../src/observe/index.js';
import { createSeries } from '../../src/series/index.js';
import type { Series } from '../../src/series/types.js';
import { openMockPort } from '../helpers/observe-serial.js';
import { withTmpDir } from '../helpers/series-tmp.js';

const A = { lat: 48.2, lon: 16.37 };

async function withSeries<T>(fn: (s: Series) => Promise<T>): Promise<T> {
  return withTmpDir(async (dir) => {
    const series = createSeries({ dir, durability: 'none', views: [createCellIndexView()] });
    await series.open();
    try {
      return await fn(series);
    } finally {
      await series.close();
    }
  });
}

describe('observer', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  it('joins the latest fix with each reading; counts readings with no fix or a stale one', async () => {
    expect(DEFAULT_CELL_PRECISION).toBe(7);
    expect(DEFAULT_MAX_FIX_AGE_MS).toBe(5000);
    await withSeries(async (series) => {
      const clock = createManualClock();
      const listeners: ((r: Parameters<Parameters<SensorDriver['onReading']>[0]>[0]) => void)[] = [];
      const fake: SensorDriver = {
        name: 'fake',
        start() {},
        async stop() {},
        onReading: (l) => {
          listeners.push(l);
          return () => undefined;
        },
        stats: () => ({}),
      };
      const emit = (r: Parameters<(typeof listeners)[number]>[0]) => {
        for (const l of listeners) l(r);
      };
      const obs = createObserver({ series, clock, log: silentLogger, drivers: [fake], precision: 6 });
      obs.start();
      emit({ kind: 'value', metric: 'temp', value: 1, t: 0 });
      emit({
        kind: 'fix',
        lat: A.lat,
        lon: A.lon,
        quality: 4,
        sentence: 'GGA',
        talker: 'GN',
        utcMs: 0,
        dated: false,
        t: 0,
      });
      emit({ kind: 'value', metric: 'temp', value: 2, t: 0 });
      clock.advance(5001);
      emit({ kind: 'value', metric: 'temp', value: 3, t: 0 });
      await obs.stop();
      expect(obs.stats()).toEqual({ observations: 1, noFix: 1, staleFix: 1, appendFailed: 0 });
      const [e] = await series.tail(1, { event: 'observation' });
      expect(e).toMatchObject({
        event: 'observation',
        ...A,
        cell: cellOf(A.lat, A.lon, 6),
        metric: 'temp',
        value: 2,
        fix: 4,
        sensor: 'fake',
      });
    });
  });

  it('runs a simulated sensor on the manual clock into the series', async () => {
    await withSeries(async (series) => {
      const clock = createManualClock();
      const sensor = createSimulatedSensor({
        field: smoothField(),
        position: A,
        clock,
        intervalMs: 1000,
        metric: 'pm25',
      });
      const obs = createObserver({ series, clock, log: silentLogger, drivers: [sensor] });
      obs.start();
      sensor.start();
      stop = () => sensor.stop();
      clock.advance(10_000);
      await sensor.stop();
      await obs.stop();
      const all = await series.tail(100, { event: 'observation' });
      expect(all).toHaveLength(10);
      expect(all.every((e) => e.fix === 8 && e.metric === 'pm25' && e.cell === cellOf(A.lat, A.lon, 7))).toBe(true);
    });
  });

  it('end to end through two mock serial ports: an NMEA GPS and a line-protocol sensor', async () => {
    await withSeries(async (series) => {
      const gpsPort = await openMockPort(4800);
      const sensorPort = await openMockPort(115_200);
      const clock = createManualClock();
      const gps = createNmeaGps(gpsPort.port, { clock });
      const sensor = createLineSensor(sensorPort.port, { clock });
      const obs = createObserver({ series, clock, log: silentLogger, drivers: [gps, sensor] });
      obs.start();
      gps.start();
      sensor.start();
      try {
        await sensorPort.feed('temp=19.5\r\n'); // before any fix: counted, not observed
        const body = 'GNGGA,092835.00,4804.14539,N,01621.54005,E,2,10,0.96,205.3,M,42.0,M,,';
        await gpsPort.feed(`$${body}*${nmeaChecksum(body)}\r\n`);
        await sensorPort.feed('temp=21.25 hum=40\n');
      } finally {
        await gps.stop();
        await sensor.stop();
        await obs.stop();
        await gpsPort.close();
        await sensorPort.close();
      }
      expect(obs.stats()).toMatchObject({ observations: 2, noFix: 1 });
      const lat = 48 + 4.14539 / 60;
      const lon = 16 + 21.54005 / 60;
      const rows = await series.tail(10, { event: 'observation' });
      expect(rows.map((r) => [r.metric, r.value, r.fix, r.cell, r.sensor]).reverse()).toEqual([
        ['temp', 21.25, 2, cellOf(lat, lon, 7), 'line'],
        ['hum', 40, 2, cellOf(lat, lon, 7), 'line'],
      ]);
    });
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { createLineSensor, parseLineProtocol, type Reading } from '../../../devices/sensors/index.js';
import { createManualClock } from '../../../src/clock.js';
import { type MockPort, openMockPort } from '../../helpers/observe-serial.js';

describe('parseLineProtocol', () => {
  it('reads one or several metric=value pairs per line', () => {
    expect(parseLineProtocol('temp=21.5')).toEqual([{ metric: 'temp', value: 21.5 }]);
    expect(parseLineProtocol('temp=21.5 hum=40,pm2_5=-1e-3;no2=.5')).toEqual([
      { metric: 'temp', value: 21.5 },
      { metric: 'hum', value: 40 },
      { metric: 'pm2_5', value: -0.001 },
      { metric: 'no2', value: 0.5 },
    ]);
    expect(parseLineProtocol('  ')).toEqual([]);
    expect(parseLineProtocol('# boot v1.2')).toEqual([]);
  });

  it('rejects a whole line when any pair is malformed', () => {
    for (const bad of ['temp=', 'temp=abc', 'temp=1 hum', '=3', 'Temp=1', 'temp=1x', 'temp=NaN', 'temp=1e999']) {
      expect(parseLineProtocol(bad), bad).toBeUndefined();
    }
  });
});

let mock: MockPort | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

describe('line sensor through the mock serial binding', () => {
  it('emits readings, counts malformed lines, handles partial lines and both framings', async () => {
    mock = await openMockPort(115_200);
    const clock = createManualClock(1_000);
    const sensor = createLineSensor(mock.port, { clock });
    const got: Reading[] = [];
    sensor.onReading((r) => got.push(r));
    sensor.start();
    await mock.feed('temp=21.5 hum=4');
    await mock.feed('0\r\ngarbage!!\nte');
    await mock.feed('mp=22\n');
    await sensor.stop();
    await mock.feed('temp=99\n'); // after stop: not read
    expect(got).toEqual([
      { kind: 'value', metric: 'temp', value: 21.5, t: 1_000 },
      { kind: 'value', metric: 'hum', value: 40, t: 1_000 },
      { kind: 'value', metric: 'temp', value: 22, t: 1_000 },
    ]);
    expect(sensor.stats()).toMatchObject({ lines: 3, readings: 3, malformed: 1 });
  });

  it('filters metrics when asked', async () => {
    mock = await openMockPort(115_200);
    const sensor = createLineSensor(mock.port, { metrics: ['hum'] });
    const got: Reading[] = [];
    sensor.onReading((r) => got.push(r));
    sensor.start();
    await mock.feed('temp=1 hum=2\r\n');
    expect(got.map((r) => (r.kind === 'value' ? r.metric : ''))).toEqual(['hum']);
    expect(sensor.stats().filtered).toBe(1);
  });
});

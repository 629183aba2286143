/**
 * One behaviour suite, every sensor driver: the common `SensorDriver`
 * contract — start idempotent, unsubscribe, stop detaches, a throwing listener never stops the
 * driver, stats are a copy.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createLineSensor,
  createNmeaGps,
  createSimulatedSensor,
  nmeaChecksum,
  type Reading,
  type SensorDriver,
  smoothField,
} from '../../../devices/sensors/index.js';
import { createManualClock } from '../../../src/clock.js';
import { type MockPort, openMockPort } from '../../helpers/observe-serial.js';

interface Harness {
  driver: SensorDriver;
  /** Make the device produce exactly one reading. */
  one(): Promise<void>;
  close(): Promise<void>;
}

const GGA_BODY = 'GPGGA,101010.00,5130.0000,N,00007.5000,W,1,07,1.0,20.0,M,47.0,M,,';

const harnesses: Record<string, () => Promise<Harness>> = {
  nmea: async () => {
    const m: MockPort = await openMockPort();
    return {
      driver: createNmeaGps(m.port, { sentences: ['GGA'] }),
      one: () => m.feed(`$${GGA_BODY}*${nmeaChecksum(GGA_BODY)}\r\n`),
      close: () => m.close(),
    };
  },
  line: async () => {
    const m: MockPort = await openMockPort(115_200);
    return { driver: createLineSensor(m.port), one: () => m.feed('temp=1\n'), close: () => m.close() };
  },
  simulated: async () => {
    const clock = createManualClock();
    const driver = createSimulatedSensor({
      field: smoothField(),
      position: { lat: 1, lon: 2 },
      emitFix: false,
      clock,
      intervalMs: 10,
    });
    return {
      driver,
      one: async () => clock.advance(10),
      close: async () => undefined,
    };
  },
};

for (const [name, make] of Object.entries(harnesses)) {
  describe(`SensorDriver contract: ${name}`, () => {
    let h: Harness | undefined;
    afterEach(async () => {
      await h?.driver.stop();
      await h?.close();
      h = undefined;
    });

    it('start is idempotent; readings reach every listener until it unsubscribes', async () => {
      h = await make();
      const a: Reading[] = [];
      const b: Reading[] = [];
      h.driver.onReading((r) => a.push(r));
      const offB = h.driver.onReading((r) => b.push(r));
      h.driver.start();
      h.driver.start();
      await h.one();
      expect(a).toHaveLength(1);
      expect(b).toHaveLength(1);
      offB();
      await h.one();
      expect(a).toHaveLength(2);
      expect(b).toHaveLength(1);
    });

    it('a throwing listener does not stop the others or the driver', async () => {
      h = await make();
      const got: Reading[] = [];
      h.driver.onReading(() => {
        throw new Error('consumer bug');
      });
      h.driver.onReading((r) => got.push(r));
      h.driver.start();
      await h.one();
      await h.one();
      expect(got).toHaveLength(2);
    });

    it('stop detaches: nothing after it; stats are a copy', async () => {
      h = await make();
      const got: Reading[] = [];
      h.driver.onReading((r) => got.push(r));
      h.driver.start();
      await h.one();
      await h.driver.stop();
      await h.one();
      expect(got).toHaveLength(1);
      const s = h.driver.stats();
      s.injected = 99;
      expect(h.driver.stats().injected).toBeUndefined();
    });
  });
}

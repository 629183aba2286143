/**
 * `npx tsx test/interop/retained-race.ts [records] [runs]`: measures the retained-vs-SUBACK race on
 * the dameso Aedes host and on Mosquitto (when installed); prints one JSON object.
 */

import { measureRetainedRace, type RaceMethod, type RaceResult } from '../helpers/broker-race.js';
import { hasMosquitto, startAedes, startMosquitto } from '../helpers/brokers.js';

const records = Number(process.argv[2] ?? 500);
const runs = Number(process.argv[3] ?? 5);

async function series(
  start: () => Promise<{ url: string; stop(): Promise<void> }>,
  method: RaceMethod,
): Promise<RaceResult[]> {
  const broker = await start();
  try {
    const out: RaceResult[] = [];
    for (let i = 0; i < runs; i++) out.push(await measureRetainedRace(broker.url, records, method));
    return out;
  } finally {
    await broker.stop();
  }
}

const methods: RaceMethod[] = ['marker0', 'marker1', 'sync'];
const range = (rs: RaceResult[], key: keyof RaceResult) => [
  Math.min(...rs.map((r) => r[key])),
  Math.max(...rs.map((r) => r[key])),
];
const summary = (rs: RaceResult[]) => ({
  afterSuback: range(rs, 'afterSuback'),
  afterMarker: range(rs, 'afterMarker'),
  tailAfterSubackMs: range(rs, 'tailAfterSubackMs'),
  maxGapMs: range(rs, 'maxGapMs'),
  markerRoundTripMs: range(rs, 'markerRoundTripMs'),
});
const out: Record<string, unknown> = { records, runs };
for (const method of methods) {
  out[`aedes_${method}`] = summary(await series(() => startAedes(), method));
  out[`mosquitto_${method}`] = hasMosquitto() ? summary(await series(() => startMosquitto(), method)) : 'not installed';
}
process.stdout.write(`${JSON.stringify(out)}\n`);

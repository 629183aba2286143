/**
 * A synthetic field of mappers for consensus tests and the benchmark: each mapper carries a
 * simulated sensor (seeded noise, liars with a bias) and reports, per cell, the median of a few
 * readings at the cell's centre.
 */
import { createSimulatedSensor, type SimulatedSensor, smoothField } from '../../devices/sensors/index.js';
import type { Perspective } from '../../src/observe/index.js';
import { cellCentre, cellOf } from '../../src/observe/index.js';

export interface FieldOptions {
  mappers: number;
  liars: number;
  /** Added by each liar, metric unit. Default 10. */
  bias?: number;
  /** Honest noise sd. Default 1. */
  noiseSigma?: number;
  /** Readings per mapper per cell. Default 5. */
  readings?: number;
  seed?: number;
}

export interface SimField {
  ids: string[];
  liars: Set<string>;
  truth(cell: string): number;
  /** One perspective per mapper for `cell`. */
  perspectives(cell: string): Perspective[];
  /** `n` distinct cells around an origin, precision 7. */
  cells(n: number): string[];
}

export function createSimField(o: FieldOptions): SimField {
  const field = smoothField({ base: 20, amplitude: 5, wavelengthDeg: 0.02 });
  const ids = Array.from({ length: o.mappers }, (_, i) => `m${String(i).padStart(3, '0')}`);
  // Liars spread through the id range so that id order carries no information.
  const liarIdx = new Set(Array.from({ length: o.liars }, (_, i) => Math.floor((i * o.mappers) / o.liars)));
  const liars = new Set(ids.filter((_, i) => liarIdx.has(i)));
  const readings = o.readings ?? 5;
  let where = { lat: 0, lon: 0 };
  const sensors = new Map<string, SimulatedSensor>(
    ids.map((id, i) => [
      id,
      createSimulatedSensor({
        field,
        position: () => where,
        noiseSigma: o.noiseSigma ?? 1,
        bias: liars.has(id) ? (o.bias ?? 10) : 0,
        seed: (o.seed ?? 1) * 1000 + i,
        emitFix: false,
      }),
    ]),
  );
  return {
    ids,
    liars,
    truth(cell) {
      const c = cellCentre(cell);
      return field(c.lat, c.lon);
    },
    perspectives(cell) {
      where = cellCentre(cell);
      return ids.map((node) => {
        const s = sensors.get(node) as SimulatedSensor;
        const xs = Array.from({ length: readings }, () => s.sample()).sort((a, b) => a - b);
        return { node, value: xs[Math.floor(xs.length / 2)] as number };
      });
    },
    cells(n) {
      const out = new Set<string>();
      for (let i = 0; out.size < n; i++)
        out.add(cellOf(48.2 + (i % 10) * 0.0015, 16.37 + Math.floor(i / 10) * 0.0015, 7));
      return [...out];
    },
  };
}

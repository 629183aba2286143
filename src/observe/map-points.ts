/**
 * The raw observations as GeoJSON (RFC 7946) Points, the positions readings were taken at rather
 * than the consensus of their cells: properties `{metric, value, t (ISO 8601 UTC), cell, seq, fix}`.
 */
import type { Entry } from '../series/types.js';
import { isoTime } from './iso-time.js';
import { asObservation } from './observation.js';

export interface PointFeature {
  type: 'Feature';
  geometry: { type: 'Point'; coordinates: [number, number] };
  properties: { metric: string; value: number; t: string; cell: string; seq: number; fix: number };
}

export interface PointCollection {
  type: 'FeatureCollection';
  features: PointFeature[];
}

/** One Point per `observation` entry (in the order given), optionally of one metric only. */
export function observationPoints(entries: Iterable<Entry>, metric?: string): PointCollection {
  const features: PointFeature[] = [];
  for (const e of entries) {
    const o = asObservation(e);
    if (!o || (metric !== undefined && o.metric !== metric)) continue;
    features.push({
      type: 'Feature',
      // RFC 7946 §3.1.1: [longitude, latitude].
      geometry: { type: 'Point', coordinates: [o.lon, o.lat] },
      properties: {
        metric: o.metric,
        value: o.value,
        t: isoTime(o.t),
        cell: o.cell,
        seq: o.seq,
        fix: o.fix,
      },
    });
  }
  return { type: 'FeatureCollection', features };
}

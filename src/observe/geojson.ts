/**
 * The consensus map as GeoJSON (RFC 7946): one Feature per cell (and metric), a Polygon from the
 * geohash bounding box, properties `{cell, metric, value, spread, responders, method, n, seq, t,
 * lowConfidence, minResponders?}`.
 * The newest consensus (highest seq) of each cell and metric wins.
 */
import type { Entry } from '../series/types.js';
import { asConsensus, type ConsensusEntry } from './consensus-entry.js';
import { cellBox } from './observation.js';

export interface MapFeature {
  type: 'Feature';
  geometry: { type: 'Polygon'; coordinates: [number, number][][] };
  properties: {
    cell: string;
    metric: string;
    value: number;
    spread: number;
    method: string;
    responders: string[];
    /** Number of responders. */
    n: number;
    seq: number;
    t: number;
    /** Fewer than the `min_responders` in force answered: show it, do not trust it. */
    lowConfidence: boolean;
    /** The fewest responders trusted when it was written (absent on older entries). */
    minResponders?: number;
  };
}

export interface MapCollection {
  type: 'FeatureCollection';
  features: MapFeature[];
}

/** Latest consensus per cell and metric, in cell then metric order. */
export function latestConsensus(entries: Iterable<Entry>, metric?: string): ConsensusEntry[] {
  const latest = new Map<string, ConsensusEntry>();
  for (const e of entries) {
    const c = asConsensus(e);
    if (!c || (metric !== undefined && c.metric !== metric)) continue;
    const key = `${c.cell}\u0000${c.metric}`;
    const prev = latest.get(key);
    if (!prev || c.seq > prev.seq) latest.set(key, c);
  }
  return [...latest.values()].sort((a, b) =>
    a.cell === b.cell ? (a.metric < b.metric ? -1 : 1) : a.cell < b.cell ? -1 : 1,
  );
}

/** A cell's outline as a GeoJSON polygon. */
export function cellPolygon(cell: string): MapFeature['geometry'] {
  const [minLat, minLon, maxLat, maxLon] = cellBox(cell);
  // RFC 7946 §3.1.6: exterior ring counterclockwise, first position repeated last; [lon, lat].
  const ring: [number, number][] = [
    [minLon, minLat],
    [maxLon, minLat],
    [maxLon, maxLat],
    [minLon, maxLat],
    [minLon, minLat],
  ];
  return { type: 'Polygon', coordinates: [ring] };
}

export function toFeature(c: ConsensusEntry): MapFeature {
  return {
    type: 'Feature',
    geometry: cellPolygon(c.cell),
    properties: {
      cell: c.cell,
      metric: c.metric,
      value: c.value,
      spread: c.spread,
      method: c.method,
      responders: [...c.responders],
      n: c.responders.length,
      seq: c.seq,
      t: c.t,
      lowConfidence: c.low_confidence === true,
      ...(typeof c.min_responders === 'number' ? { minResponders: c.min_responders } : {}),
    },
  };
}

export function consensusMap(entries: Iterable<Entry>, metric?: string): MapCollection {
  return { type: 'FeatureCollection', features: latestConsensus(entries, metric).map(toFeature) };
}

/**
 * The consensus map as CSV, for spreadsheets and QGIS (a delimited text layer with X = lon,
 * Y = lat): one row per cell and metric,
 * `cell,metric,value,spread,n,responders,method,low_confidence,lat,lon,time`, where lat/lon is the
 * cell centre, `responders` the ids joined by `;` and `time` the consensus time in ISO 8601 UTC.
 * RFC 4180: CRLF line ends, a field holding a comma, a quote or a line break is quoted, quotes
 * doubled.
 */
import type { MapCollection, MapFeature } from './geojson.js';
import { isoTime } from './iso-time.js';
import { cellCentre } from './observation.js';

export const MAP_CSV_COLUMNS = [
  'cell',
  'metric',
  'value',
  'spread',
  'n',
  'responders',
  'method',
  'low_confidence',
  'lat',
  'lon',
  'time',
] as const;

/** Separator of the responder ids inside their one field. */
export const CSV_RESPONDER_SEPARATOR = ';';

/** One RFC 4180 field. */
export function csvField(v: string | number | boolean): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** A feature's `lowConfidence` (false for consensus written before the field existed). */
export function isLowConfidence(f: MapFeature): boolean {
  return f.properties.lowConfidence === true;
}

function row(f: MapFeature): string {
  const p = f.properties;
  const { lat, lon } = cellCentre(p.cell);
  const fields = [
    p.cell,
    p.metric,
    p.value,
    p.spread,
    p.n,
    p.responders.join(CSV_RESPONDER_SEPARATOR),
    p.method,
    isLowConfidence(f),
    lat,
    lon,
    isoTime(p.t),
  ];
  return fields.map(csvField).join(',');
}

export function mapCsv(map: MapCollection): string {
  return [MAP_CSV_COLUMNS.join(','), ...map.features.map(row)].map((l) => `${l}\r\n`).join('');
}

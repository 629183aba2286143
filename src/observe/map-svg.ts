/**
 * The SVG of one metric of the consensus map: the cells as rectangles on a lat/lon grid
 * (equirectangular projection of the cells' bounding box, longitudes scaled by the cosine of its
 * middle latitude so cells keep their shape), a graticule with degree labels, cells coloured by
 * value, low-confidence cells hatched and dashed, and a legend. Every string is escaped.
 */

import type { MapFeature } from './geojson.js';
import { isoTime } from './iso-time.js';
import { isLowConfidence } from './map-csv.js';
import { cellBox } from './observation.js';

/** Drawing width of the map in SVG units (it scales to the page). */
const MAP_WIDTH_PX = 620;
const MAP_MIN_HEIGHT_PX = 240;
const MAP_MAX_HEIGHT_PX = 460;
/** Room for the graticule labels around the map (the latitude labels on the left are the widest). */
const MARGIN_PX = 36;
const MARGIN_LEFT_PX = 84;
/** A cell is never drawn smaller than this, so a far-flung cell stays visible. */
const MIN_CELL_PX = 4;
/** Graticule lines across the longer side, about. */
const GRATICULE_LINES = 6;
/** Labels closer than this would overlap (a longitude label is about 9 characters wide). */
const MIN_LABEL_SPACING_PX = 80;
/** A cell at least this large shows its value printed on it, so a printout or screenshot reads alone. */
const VALUE_LABEL_MIN_WIDTH_PX = 44;
const VALUE_LABEL_MIN_HEIGHT_PX = 18;
/** Palette indexes dark enough for a white label (the rest take a black one). */
const DARK_PALETTE_BELOW = 0.55;

/** Viridis, sampled: dark blue (low) to yellow (high); readable in grey and by most colour-blind eyes. */
const PALETTE = ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725'];

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A number short enough for a label: 6 significant digits, no trailing zeros. */
export function num(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v);
}

export interface Bounds {
  minLat: number;
  minLon: number;
  maxLat: number;
  maxLon: number;
}

/** The bounding box of every cell, padded a little so edge cells do not touch the frame. */
export function boundsOf(features: readonly MapFeature[]): Bounds {
  const b = { minLat: 90, minLon: 180, maxLat: -90, maxLon: -180 };
  for (const f of features) {
    const [a, c, d, e] = cellBox(f.properties.cell);
    b.minLat = Math.min(b.minLat, a);
    b.minLon = Math.min(b.minLon, c);
    b.maxLat = Math.max(b.maxLat, d);
    b.maxLon = Math.max(b.maxLon, e);
  }
  const padLat = (b.maxLat - b.minLat) * 0.05;
  const padLon = (b.maxLon - b.minLon) * 0.05;
  return {
    minLat: Math.max(-90, b.minLat - padLat),
    maxLat: Math.min(90, b.maxLat + padLat),
    minLon: Math.max(-180, b.minLon - padLon),
    maxLon: Math.min(180, b.maxLon + padLon),
  };
}

interface Projection {
  x(lon: number): number;
  y(lat: number): number;
  width: number;
  height: number;
}

export function project(b: Bounds): Projection {
  const k = Math.cos((((b.minLat + b.maxLat) / 2) * Math.PI) / 180);
  const spanX = Math.max((b.maxLon - b.minLon) * k, 1e-9);
  const spanY = Math.max(b.maxLat - b.minLat, 1e-9);
  const scale = MAP_WIDTH_PX / spanX;
  const height = Math.min(MAP_MAX_HEIGHT_PX, Math.max(MAP_MIN_HEIGHT_PX, spanY * scale));
  // Keep one scale for both axes (no stretching): fit the tighter of the two.
  const s = Math.min(scale, height / spanY);
  const offX = (MAP_WIDTH_PX - spanX * s) / 2;
  const offY = (height - spanY * s) / 2;
  return {
    x: (lon) => MARGIN_LEFT_PX + offX + (lon - b.minLon) * k * s,
    y: (lat) => MARGIN_PX + offY + (b.maxLat - lat) * s,
    width: MAP_WIDTH_PX + MARGIN_LEFT_PX + MARGIN_PX,
    height: height + 2 * MARGIN_PX,
  };
}

/** A graticule step of 1, 2 or 5 × 10^k degrees giving about `GRATICULE_LINES` lines over `span`. */
export function niceStep(span: number): number {
  const raw = Math.max(span, 1e-9) / GRATICULE_LINES;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

function degrees(v: number, step: number, pos: string, neg: string): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return `${Math.abs(v).toFixed(decimals)}°${v < 0 ? neg : pos}`;
}

/** The next step of the 1, 2, 5 × 10^k series above `step`. */
function coarser(step: number): number {
  const p = 10 ** Math.floor(Math.log10(step) + 1e-9);
  const m = Math.round(step / p);
  return (m === 1 ? 2 : m === 2 ? 5 : 10) * p;
}

/** A nice step over `span` whose labels, `pxPerUnit` apart per unit, do not overlap. */
function labelStep(span: number, pxPerUnit: number): number {
  let step = niceStep(span);
  for (let i = 0; i < 12 && step * pxPerUnit < MIN_LABEL_SPACING_PX; i++) step = coarser(step);
  return step;
}

function graticule(b: Bounds, p: Projection): string {
  const out: string[] = [];
  const [left, right, top, bottom] = [p.x(b.minLon), p.x(b.maxLon), p.y(b.maxLat), p.y(b.minLat)];
  const lonStep = labelStep(b.maxLon - b.minLon, Math.abs(p.x(b.minLon + 1) - p.x(b.minLon)));
  for (let lon = Math.ceil(b.minLon / lonStep) * lonStep; lon <= b.maxLon; lon += lonStep) {
    const x = p.x(lon).toFixed(1);
    out.push(`<line class="grid" x1="${x}" y1="${top}" x2="${x}" y2="${bottom}"/>`);
    out.push(
      `<text class="lbl" x="${x}" y="${bottom + 18}" text-anchor="middle">${degrees(lon, lonStep, 'E', 'W')}</text>`,
    );
  }
  const latStep = labelStep(b.maxLat - b.minLat, Math.abs(p.y(b.minLat) - p.y(b.minLat + 1)) * 3);
  for (let lat = Math.ceil(b.minLat / latStep) * latStep; lat <= b.maxLat; lat += latStep) {
    const y = p.y(lat).toFixed(1);
    out.push(`<line class="grid" x1="${left}" y1="${y}" x2="${right}" y2="${y}"/>`);
    out.push(
      `<text class="lbl" x="${left - 6}" y="${y}" text-anchor="end" dy="4">${degrees(lat, latStep, 'N', 'S')}</text>`,
    );
  }
  out.push(`<rect class="frame" x="${left}" y="${top}" width="${right - left}" height="${bottom - top}"/>`);
  return out.join('\n');
}

/** [min, max] of `xs` (no spread into Math.min: a large map would overflow the call stack). */
export function range(xs: readonly number[]): [number, number] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const x of xs) {
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return [min, max];
}

/** Colour of `v` on the palette between `min` and `max` (the middle colour when they are equal). */
export function colourOf(v: number, min: number, max: number): string {
  const f = scaleShare(v, min, max);
  const at = f * (PALETTE.length - 1);
  const i = Math.min(PALETTE.length - 2, Math.floor(at));
  const mix = (a: string, c: string, w: number) => {
    const [x, y] = [Number.parseInt(a, 16), Number.parseInt(c, 16)];
    return Math.round(x + (y - x) * w);
  };
  const [a, c] = [PALETTE[i]!, PALETTE[i + 1]!];
  const rgb = [1, 3, 5].map((o) => mix(a.slice(o, o + 2), c.slice(o, o + 2), at - i));
  return `#${rgb.map((n) => n.toString(16).padStart(2, '0')).join('')}`;
}

/** The hover text of a cell: value, spread, responders, method, seq, time, confidence. */
export function cellText(f: MapFeature): string {
  const p = f.properties;
  return [
    `${p.cell} · ${p.metric}`,
    `value ${num(p.value)} ± ${num(p.spread)} (spread)`,
    `responders ${p.n}: ${p.responders.join(', ')}`,
    `method ${p.method}`,
    `seq ${p.seq} · ${isoTime(p.t)}`,
    ...(isLowConfidence(f) ? [`LOW CONFIDENCE: ${p.n} responder(s) < ${p.minResponders ?? '?'} required`] : []),
  ].join('\n');
}

function cellRect(f: MapFeature, p: Projection, min: number, max: number): string {
  const [minLat, minLon, maxLat, maxLon] = cellBox(f.properties.cell);
  const w = Math.max(MIN_CELL_PX, p.x(maxLon) - p.x(minLon));
  const h = Math.max(MIN_CELL_PX, p.y(minLat) - p.y(maxLat));
  const x = (p.x(minLon) + p.x(maxLon) - w) / 2;
  const y = (p.y(maxLat) + p.y(minLat) - h) / 2;
  const box = `x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}"`;
  const low = isLowConfidence(f);
  const fill = colourOf(f.properties.value, min, max);
  const hatch = low ? `<rect class="hatch" ${box} fill="url(#hatch)"/>` : '';
  const label =
    w >= VALUE_LABEL_MIN_WIDTH_PX && h >= VALUE_LABEL_MIN_HEIGHT_PX
      ? valueLabel(f, x + w / 2, y + h / 2, scaleShare(f.properties.value, min, max) < DARK_PALETTE_BELOW, low)
      : '';
  return (
    `<g class="cell${low ? ' low' : ''}" data-cell="${esc(f.properties.cell)}"><title>${esc(cellText(f))}</title>` +
    `<rect class="fill" ${box} fill="${fill}"/>${hatch}${label}</g>`
  );
}

/** Where `v` sits on the colour scale, [0,1] (the middle when every value is the same). */
function scaleShare(v: number, min: number, max: number): number {
  return max > min ? Math.min(1, Math.max(0, (v - min) / (max - min))) : 0.5;
}

/** The value printed on its cell; a low-confidence value is marked with `?`. */
function valueLabel(f: MapFeature, cx: number, cy: number, dark: boolean, low: boolean): string {
  const text = `${num(f.properties.value)}${low ? ' ?' : ''}`;
  return (
    `<text class="val${dark ? ' on-dark' : ''}" x="${cx.toFixed(1)}" y="${cy.toFixed(1)}" ` +
    `text-anchor="middle" dy="4">${esc(text)}</text>`
  );
}

/**
 * The hatch pattern and the colour scale, defined once in an always-rendered SVG at the top of
 * the page: a pattern inside a hidden (display: none) SVG is not painted where it is used.
 */
export function sharedDefsSvg(): string {
  const stops = PALETTE.map((c, i) => `<stop offset="${(i / (PALETTE.length - 1)).toFixed(2)}" stop-color="${c}"/>`);
  return (
    '<svg xmlns="http://www.w3.org/2000/svg" class="defs" width="0" height="0" aria-hidden="true"><defs>' +
    '<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">' +
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#fff" stroke-width="2.5"/>' +
    '<line x1="1.6" y1="0" x2="1.6" y2="6" stroke="#000" stroke-width="1.2"/></pattern>' +
    `<linearGradient id="scale">${stops.join('')}</linearGradient></defs></svg>`
  );
}

/** The map SVG of one metric's features. */
export function metricSvg(features: readonly MapFeature[], b: Bounds, metric: string): string {
  const p = project(b);
  const [min, max] = range(features.map((f) => f.properties.value));
  const cells = features.map((f) => cellRect(f, p, min, max)).join('\n');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="map" viewBox="0 0 ${p.width.toFixed(0)} ${p.height.toFixed(0)}" ` +
    `role="img" aria-label="${esc(`map of ${metric}`)}">\n${graticule(b, p)}\n${cells}\n</svg>`
  );
}

/** The legend of one metric: the colour scale with its min and max, and the low-confidence swatch. */
export function legendSvg(features: readonly MapFeature[], metric: string): string {
  const [min, max] = range(features.map((f) => f.properties.value));
  const lows = features.filter(isLowConfidence).length;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="legend" viewBox="0 0 290 104" role="img" aria-label="legend">` +
    `<text class="lbl" x="0" y="12">${esc(metric)}: colour by value</text>` +
    '<rect x="0" y="20" width="280" height="16" fill="url(#scale)" stroke="#555"/>' +
    (min === max
      ? `<text class="lbl" x="0" y="52">every cell ${esc(num(min))}</text>`
      : `<text class="lbl" x="0" y="52">min ${esc(num(min))}</text>` +
        `<text class="lbl" x="280" y="52" text-anchor="end">max ${esc(num(max))}</text>`) +
    '<rect x="0" y="66" width="28" height="18" fill="#9a9a9a" stroke="#111" stroke-width="2" stroke-dasharray="4 2"/>' +
    '<rect x="0" y="66" width="28" height="18" fill="url(#hatch)"/>' +
    `<text class="lbl" x="38" y="79">low confidence: ${lows} cell(s)</text>` +
    '<text class="lbl" x="38" y="97">fewer responders than required</text></svg>'
  );
}

/**
 * The consensus map over map tiles, drawn only when the user gives a tile URL (`?tiles=` or the
 * field under the map): Web Mercator ("slippy map") tiles `{z}/{x}/{y}` at the zoom that fits the
 * cells, the cells on top in the same projection, coloured like the lat/lon grid. Built with DOM
 * calls (never markup from strings): the URL and every text are attributes or text nodes.
 */
import type { MapFeature } from '../../src/observe/geojson.js';
import { cellText, colourOf, range } from '../../src/observe/map-svg.js';
import { cellBox } from '../../src/observe/observation.js';
import { MAX_TILE_ZOOM, MAX_TILES, TILE_MAP_HEIGHT_PX, TILE_MAP_WIDTH_PX, TILE_PX } from './constants.js';

const SVG = 'http://www.w3.org/2000/svg';

function svgEl(tag: string, attrs: Record<string, string | number>): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** World pixel coordinates at zoom `z` (Web Mercator, EPSG:3857). */
function worldPx(lat: number, lon: number, z: number): [number, number] {
  const size = TILE_PX * 2 ** z;
  const s = Math.sin((Math.max(-85.05, Math.min(85.05, lat)) * Math.PI) / 180);
  return [((lon + 180) / 360) * size, (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * size];
}

/** The tile URL of one tile: `{z}`, `{x}`, `{y}` replaced (nothing else of the template is touched). */
export function tileUrl(template: string, z: number, x: number, y: number): string {
  return template.replaceAll('{z}', String(z)).replaceAll('{x}', String(x)).replaceAll('{y}', String(y));
}

/** The largest zoom at which the cells (with a margin) fit the drawing. */
function fittingZoom(minLat: number, minLon: number, maxLat: number, maxLon: number): number {
  for (let z = MAX_TILE_ZOOM; z > 0; z--) {
    const [x0, y0] = worldPx(maxLat, minLon, z);
    const [x1, y1] = worldPx(minLat, maxLon, z);
    if ((x1 - x0) * 1.2 <= TILE_MAP_WIDTH_PX && (y1 - y0) * 1.2 <= TILE_MAP_HEIGHT_PX) return z;
  }
  return 0;
}

/** The SVG of `features` over the tiles of `template`. */
export function tileMapSvg(features: readonly MapFeature[], template: string): SVGElement {
  const boxes = features.map((f) => cellBox(f.properties.cell));
  const minLat = Math.min(...boxes.map((b) => b[0]));
  const minLon = Math.min(...boxes.map((b) => b[1]));
  const maxLat = Math.max(...boxes.map((b) => b[2]));
  const maxLon = Math.max(...boxes.map((b) => b[3]));
  const z = fittingZoom(minLat, minLon, maxLat, maxLon);
  const [cx0, cy0] = worldPx(maxLat, minLon, z);
  const [cx1, cy1] = worldPx(minLat, maxLon, z);
  // The drawing's top-left in world pixels: the cells centred.
  const ox = (cx0 + cx1) / 2 - TILE_MAP_WIDTH_PX / 2;
  const oy = (cy0 + cy1) / 2 - TILE_MAP_HEIGHT_PX / 2;
  const svg = svgEl('svg', {
    class: 'map tiles',
    viewBox: `0 0 ${TILE_MAP_WIDTH_PX} ${TILE_MAP_HEIGHT_PX}`,
    role: 'img',
    'data-zoom': z,
  });
  const last = 2 ** z - 1;
  let drawn = 0;
  for (let ty = Math.floor(oy / TILE_PX); ty * TILE_PX < oy + TILE_MAP_HEIGHT_PX; ty++) {
    for (let tx = Math.floor(ox / TILE_PX); tx * TILE_PX < ox + TILE_MAP_WIDTH_PX; tx++) {
      if (ty < 0 || ty > last || drawn >= MAX_TILES) continue;
      const wrapped = ((tx % (last + 1)) + last + 1) % (last + 1);
      const image = svgEl('image', { x: tx * TILE_PX - ox, y: ty * TILE_PX - oy, width: TILE_PX, height: TILE_PX });
      image.setAttribute('href', tileUrl(template, z, wrapped, ty));
      svg.append(image);
      drawn++;
    }
  }
  const [min, max] = range(features.map((f) => f.properties.value));
  for (const f of features) svg.append(cellOnTiles(f, z, ox, oy, min, max));
  return svg;
}

function cellOnTiles(f: MapFeature, z: number, ox: number, oy: number, min: number, max: number): SVGElement {
  const [minLat, minLon, maxLat, maxLon] = cellBox(f.properties.cell);
  const [x0, y0] = worldPx(maxLat, minLon, z);
  const [x1, y1] = worldPx(minLat, maxLon, z);
  const low = f.properties.lowConfidence;
  const g = svgEl('g', { class: low ? 'cell low' : 'cell', 'data-cell': f.properties.cell });
  const title = svgEl('title', {});
  title.textContent = cellText(f);
  const box = { x: x0 - ox, y: y0 - oy, width: Math.max(2, x1 - x0), height: Math.max(2, y1 - y0) };
  g.append(
    title,
    svgEl('rect', { class: 'fill', ...box, fill: colourOf(f.properties.value, min, max), 'fill-opacity': 0.6 }),
  );
  if (low) g.append(svgEl('rect', { class: 'hatch', ...box, fill: 'url(#hatch)' }));
  return g;
}

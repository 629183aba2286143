import { describe, expect, it } from 'vitest';
import type { MapFeature } from '../../src/observe/geojson.js';
import { boundsOf, legendSvg, metricSvg } from '../../src/observe/map-svg.js';

function feature(cell: string, value: number, n = 4): MapFeature {
  return {
    type: 'Feature',
    geometry: { type: 'Polygon', coordinates: [] },
    properties: {
      cell,
      metric: 'temp',
      value,
      spread: 0.2,
      method: 'median',
      responders: Array.from({ length: n }, (_, i) => `m${i}`),
      n,
      seq: 7,
      t: 0,
      lowConfidence: n < 3,
      minResponders: 3,
    },
  } as MapFeature;
}

/** The x of every longitude label, left to right. */
function lonLabelXs(svg: string): number[] {
  return [...svg.matchAll(/<text class="lbl" x="([\d.]+)" y="[\d.]+" text-anchor="middle">[\d.]+°[EW]/g)].map((m) =>
    Number(m[1]),
  );
}

describe('the map SVG reads without hovering', () => {
  it('a large cell carries its value; a low-confidence one is marked ?', () => {
    const sure = metricSvg([feature('u09tvw0', 19.3968)], boundsOf([feature('u09tvw0', 19.3968)]), 'temp');
    expect(sure).toMatch(/<text class="val[^"]*"[^>]*>19\.3968<\/text>/);
    const unsure = [feature('u09tvw0', 19.3968, 1)];
    expect(metricSvg(unsure, boundsOf(unsure), 'temp')).toMatch(/>19\.3968 \?<\/text>/);
  });

  it('longitude labels of one small cell do not overlap', () => {
    const one = [feature('u09tvw0', 19.4)];
    const xs = lonLabelXs(metricSvg(one, boundsOf(one), 'temp'));
    expect(xs.length).toBeGreaterThan(1);
    for (let i = 1; i < xs.length; i++) expect((xs[i] ?? 0) - (xs[i - 1] ?? 0)).toBeGreaterThanOrEqual(80);
  });

  it('a legend whose cells all hold one value says so instead of min = max', () => {
    const one = [feature('u09tvw0', 19.4), feature('u09tvw1', 19.4)];
    const legend = legendSvg(one, 'temp');
    expect(legend).toContain('every cell 19.4');
    expect(legend).not.toContain('min ');
  });
});

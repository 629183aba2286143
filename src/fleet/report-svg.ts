/**
 * The few chart shapes the fleet report draws, as inline SVG strings (no script, no network): a
 * stacked bar chart over time with fault bands, a line chart and a histogram. Every text is escaped.
 */

export const esc = (s: string | number): string =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

export interface Band {
  from: number;
  to: number;
  color: string;
  label: string;
}

export interface Line {
  name: string;
  color: string;
  points: Array<[number, number]>;
}

const W = 720;
const H = 220;
const PAD = { l: 48, r: 12, t: 12, b: 28 };
const plotW = W - PAD.l - PAD.r;
const plotH = H - PAD.t - PAD.b;

const fmt = (x: number): string =>
  Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);

function frame(xMax: number, yMax: number, xLabel: string, body: string, title: string): string {
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => {
      const y = PAD.t + plotH * (1 - f);
      return `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y}" y2="${y}" class="grid"/><text x="${PAD.l - 4}" y="${y + 4}" text-anchor="end">${fmt(yMax * f)}</text>`;
    })
    .join('');
  const xt = [0, 0.5, 1]
    .map((f) => {
      const anchor = f === 1 ? 'end' : 'middle';
      const label = f === 1 ? `${fmt(xMax)} ${esc(xLabel)}` : fmt(xMax * f);
      return `<text x="${PAD.l + plotW * f}" y="${H - 8}" text-anchor="${anchor}">${label}</text>`;
    })
    .join('');
  return (
    `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title>${ticks}${xt}` +
    `${body}</svg>`
  );
}

const sx = (x: number, xMax: number): number => PAD.l + (xMax > 0 ? (x / xMax) * plotW : 0);
const sy = (y: number, yMax: number): number => PAD.t + plotH * (1 - (yMax > 0 ? y / yMax : 0));

/** Stacked bars per x (one per second), bands behind them (faults). */
export function stackedBars(
  rows: Array<{ x: number; parts: number[] }>,
  colors: readonly string[],
  bands: readonly Band[],
  title: string,
): string {
  const xMax = Math.max(1, ...rows.map((r) => r.x + 1), ...bands.map((b) => b.to));
  const yMax = Math.max(1, ...rows.map((r) => r.parts.reduce((a, b) => a + b, 0)));
  const bw = Math.max(1, plotW / xMax - 1);
  const back = bands
    .map(
      (b) =>
        `<rect class="band" x="${sx(b.from, xMax)}" y="${PAD.t}" width="${Math.max(2, sx(b.to, xMax) - sx(b.from, xMax))}" height="${plotH}" fill="${b.color}"><title>${esc(b.label)}</title></rect>`,
    )
    .join('');
  const bars = rows
    .map((r) => {
      let acc = 0;
      return r.parts
        .map((v, i) => {
          const y0 = sy(acc, yMax);
          acc += v;
          const y1 = sy(acc, yMax);
          return v > 0
            ? `<rect x="${sx(r.x, xMax)}" y="${y1}" width="${bw}" height="${y0 - y1}" fill="${colors[i]}"/>`
            : '';
        })
        .join('');
    })
    .join('');
  return frame(xMax, yMax, 's', back + bars, title);
}

export function lineChart(lines: readonly Line[], xLabel: string, title: string, yMaxFixed?: number): string {
  const pts = lines.flatMap((l) => l.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xMax = Math.max(1, ...pts.map(([x]) => x));
  const yMax = yMaxFixed ?? Math.max(1e-9, ...pts.map(([, y]) => y)) * 1.1;
  const body = lines
    .map((l) => {
      const d = l.points
        .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
        .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x, xMax).toFixed(1)},${sy(y, yMax).toFixed(1)}`)
        .join('');
      return d
        ? `<path d="${d}" fill="none" stroke="${l.color}" stroke-width="2"><title>${esc(l.name)}</title></path>`
        : '';
    })
    .join('');
  return frame(xMax, yMax, xLabel, body, title);
}

/** Bars of counts per bucket, labelled by the bucket's upper bound. */
export function histogram(counts: readonly number[], labels: readonly string[], color: string, title: string): string {
  const w = 360;
  const h = 120;
  const max = Math.max(1, ...counts);
  const bw = (w - 20) / Math.max(1, counts.length);
  const bars = counts
    .map((n, i) => {
      const bh = ((h - 40) * n) / max;
      return (
        `<rect x="${10 + i * bw}" y="${h - 24 - bh}" width="${bw - 2}" height="${bh}" fill="${color}"><title>≤ ${esc(labels[i] ?? '')} ms: ${n}</title></rect>` +
        `<text x="${10 + i * bw + bw / 2}" y="${h - 10}" text-anchor="middle" class="small">${esc(labels[i] ?? '')}</text>`
      );
    })
    .join('');
  return `<svg viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title>${bars}</svg>`;
}

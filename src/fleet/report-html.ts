/**
 * The fleet report as one self-contained HTML page: no script, no network, inline SVG only. Its
 * sections (each an `<section id=…>` with a heading): checks, outcomes over time with the faults
 * on the time axis, latency per outcome, faults, the consensus map with the error per cell,
 * reputation of liars and honest nodes over rounds, memory and CPU per worker.
 */
import type { CellTruth } from './checks.js';
import type { FleetReport } from './report.js';
import { type Band, esc, histogram, type Line, lineChart, stackedBars } from './report-svg.js';

export const REPORT_SECTIONS = ['checks', 'outcomes', 'latency', 'faults', 'map', 'reputation', 'workers'] as const;

const OUTCOME_COLORS = ['#2e7d32', '#ef6c00', '#9e9e9e', '#c62828'];
const FAULT_COLORS: Record<string, string> = { kill: '#e5393566', stall: '#8e24aa55', 'broker-restart': '#1e88e566' };
const PALETTE = ['#1565c0', '#2e7d32', '#ef6c00', '#6a1b9a', '#00838f', '#ad1457', '#5d4037', '#827717'];

const STYLE = `body{font:14px system-ui,sans-serif;margin:24px auto;max-width:780px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:4px 6px;text-align:left;vertical-align:top}
.ok{color:#2e7d32;font-weight:600}.fail{color:#c62828;font-weight:600}svg{width:100%;height:auto;font-size:11px}
.grid{stroke:#eee}.small{font-size:9px}.legend span{display:inline-block;margin-right:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}.muted{color:#777}
.hists{display:flex;gap:10px}.hists>div{flex:1;min-width:0}h3{font-size:14px;margin:10px 0 2px}`;

const legend = (items: Array<[string, string]>): string =>
  `<p class="legend">${items.map(([n, c]) => `<span><i style="background:${c}"></i>${esc(n)}</span>`).join('')}</p>`;

const section = (id: string, title: string, body: string): string =>
  `<section id="${id}"><h2>${esc(title)}</h2>${body}</section>`;

function checksSection(r: FleetReport): string {
  const rows = r.checks
    .map(
      (c) =>
        `<tr><td>${esc(c.name)}</td><td class="${c.ok ? 'ok' : 'fail'}">${c.ok ? 'pass' : 'FAIL'}</td><td>${esc(c.detail)}</td></tr>`,
    )
    .join('');
  return section('checks', 'Checks', `<table><tr><th>check</th><th></th><th>detail</th></tr>${rows}</table>`);
}

function faultBands(r: FleetReport): Band[] {
  return r.faults.map((f) => ({
    from: f.startS,
    to: Math.max(f.endS, f.startS + 0.3),
    color: FAULT_COLORS[f.kind] ?? '#0002',
    label: `${f.kind} at ${f.startS}s–${f.endS}s${f.nodes.length ? `: ${f.nodes.join(', ')}` : ''}`,
  }));
}

/**
 * The report counts the outcomes at every requester, the fleet's and every surveying mapper's, so
 * its figures are larger than the summary line's, which counts the fleet requester's only.
 */
const WHOSE_OUTCOMES =
  '<p class="muted">Outcomes at every requester: the fleet requester and every surveying mapper ' +
  "(the summary line on stdout counts the fleet requester's only).</p>";

function outcomesSection(r: FleetReport): string {
  const rows = r.outcomes.map((o) => ({ x: o.s, parts: [o.yes, o.no, o.silence, o.offline] }));
  const chart = stackedBars(rows, OUTCOME_COLORS, faultBands(r), 'outcomes per second, per peer');
  const names: Array<[string, string]> = [
    ['yes', OUTCOME_COLORS[0] as string],
    ['no', OUTCOME_COLORS[1] as string],
    ['silence', OUTCOME_COLORS[2] as string],
    ['offline', OUTCOME_COLORS[3] as string],
    ...Object.entries(FAULT_COLORS).map(([k, c]): [string, string] => [`${k} (fault)`, c]),
  ];
  return section('outcomes', 'Outcome mix over time', WHOSE_OUTCOMES + legend(names) + chart);
}

function latencySection(r: FleetReport): string {
  const labels = [...r.latency.bucketsMs.map(String), `>${r.latency.bucketsMs.at(-1) ?? ''}`];
  const kinds = [
    ['yes', r.latency.yes, OUTCOME_COLORS[0]],
    ['no', r.latency.no, OUTCOME_COLORS[1]],
    ['silence close', r.latency.silenceClose, OUTCOME_COLORS[2]],
  ] as const;
  const table = kinds
    .map(
      ([n, p]) =>
        `<tr><td>${n}</td><td>${p.n}</td><td>${p.p50}</td><td>${p.p90}</td><td>${p.p99}</td><td>${p.p999}</td></tr>`,
    )
    .join('');
  const charts = kinds
    .map(
      ([n, p, c]) =>
        `<div><h3>${n} (n=${p.n})</h3>${histogram(p.histogram, labels, c as string, `${n} latency, ms`)}</div>`,
    )
    .join('');
  return section(
    'latency',
    'Latency per outcome (ms)',
    `${WHOSE_OUTCOMES}<table><tr><th>outcome</th><th>n</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th></tr>${table}</table><div class="hists">${charts}</div>`,
  );
}

function faultsSection(r: FleetReport): string {
  if (r.faults.length === 0) return section('faults', 'Faults', '<p class="muted">no fault was scheduled</p>');
  const rows = r.faults
    .map(
      (f) =>
        `<tr><td>${esc(f.kind)}</td><td>${f.atS}</td><td>${f.startS}–${f.endS}</td><td>${esc(f.nodes.join(', ') || '-')}</td>` +
        `<td class="${f.ok ? 'ok' : 'fail'}">${f.ok ? 'done' : esc(f.detail ?? 'failed')}</td></tr>`,
    )
    .join('');
  return section(
    'faults',
    'Faults',
    `<table><tr><th>fault</th><th>planned s</th><th>ran s</th><th>nodes</th><th></th></tr>${rows}</table>`,
  );
}

/** Green at 0 error, red at `bad` and beyond. */
const errorColor = (e: number, bad: number): string => {
  const f = Number.isFinite(e) ? Math.min(1, e / bad) : 1;
  return `hsl(${Math.round(120 * (1 - f))},70%,45%)`;
};

function mapSection(r: FleetReport): string {
  const cells = r.cells;
  if (cells.length === 0) return section('map', 'Consensus map', '<p class="muted">no mapper: no cell to map</p>');
  const lats = cells.map((c) => c.lat);
  const lons = cells.map((c) => c.lon);
  const [minLat, maxLat, minLon, maxLon] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
  const W = 720;
  const H = 360;
  const x = (lon: number): number => 40 + ((lon - minLon) / (maxLon - minLon || 1)) * (W - 80);
  const y = (lat: number): number => H - 40 - ((lat - minLat) / (maxLat - minLat || 1)) * (H - 80);
  const bad = Math.max(1, ...cells.map((c) => c.error.plainMean).filter(Number.isFinite));
  const marks = cells
    .map(
      (c) =>
        `<g><rect x="${x(c.lon) - 18}" y="${y(c.lat) - 18}" width="36" height="36" fill="${errorColor(c.error.median, bad)}"><title>${esc(cellTitle(c))}</title></rect>` +
        `<text x="${x(c.lon)}" y="${y(c.lat) + 32}" text-anchor="middle" class="small">${esc(c.cell)} ±${fmt(c.error.median)}</text></g>`,
    )
    .join('');
  const rows = cells
    .map(
      (c) =>
        `<tr><td>${esc(c.cell)}</td><td>${fmt(c.truth)}</td><td>${c.liars}/${c.responders}</td><td>${c.rounds}</td>` +
        `<td>${fmt(c.error.median)}</td><td>${fmt(c.error.weightedMean)}</td><td>${fmt(c.error.plainMean)}</td><td>${fmt(c.error.plainMedian)}</td></tr>`,
    )
    .join('');
  const svg = `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="consensus map"><title>consensus map: error per cell</title>${marks}</svg>`;
  const table =
    '<table><tr><th>cell</th><th>truth</th><th>liars/responders</th><th>rounds</th><th>robust median</th>' +
    `<th>weighted mean</th><th>plain mean</th><th>plain median</th></tr>${rows}</table>`;
  return section(
    'map',
    'Consensus map: error per cell vs ground truth',
    `<p class="muted">colour: the robust consensus error (green 0, red at the worst plain-mean error ${fmt(bad)})</p>${svg}${table}`,
  );
}

const fmt = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '-');
const cellTitle = (c: CellTruth): string =>
  `${c.cell}: truth ${fmt(c.truth)}, error median ${fmt(c.error.median)}, plain mean ${fmt(c.error.plainMean)}, liars ${c.liars}/${c.responders}`;

function reputationSection(r: FleetReport): string {
  if (r.reputation.length === 0)
    return section('reputation', 'Reputation over rounds', '<p class="muted">no survey round judged</p>');
  const line = (name: string, color: string, pick: (x: FleetReport['reputation'][number]) => number): Line => ({
    name,
    color,
    points: r.reputation.map((x) => [x.round, pick(x)]),
  });
  const lines = [
    line('honest mean', '#2e7d32', (x) => x.honestMean),
    line('honest min', '#81c784', (x) => x.honestMin),
    line('liar max', '#ef9a9a', (x) => x.liarMax),
    line('liar mean', '#c62828', (x) => x.liarMean),
  ];
  return section(
    'reputation',
    'Reputation of liars vs honest nodes over rounds',
    legend(lines.map((l) => [l.name, l.color])) + lineChart(lines, 'round', 'reputation (0..1) by survey round', 1),
  );
}

function workersSection(r: FleetReport): string {
  if (r.workers.length === 0)
    return section('workers', 'Memory and CPU per worker', '<p class="muted">no worker sampled</p>');
  const color = (i: number): string => PALETTE[i % PALETTE.length] as string;
  const rss = r.workers.map(
    (w, i): Line => ({
      name: `${w.name} (${w.nodes} nodes)`,
      color: color(i),
      points: w.samples.map((s) => [s.s, s.rssMB]),
    }),
  );
  const cpu = r.workers.map(
    (w, i): Line => ({ name: w.name, color: color(i), points: w.samples.map((s) => [s.s, s.cpuPct]) }),
  );
  return section(
    'workers',
    'Memory and CPU per worker',
    legend(rss.map((l) => [l.name, l.color])) +
      `<h3>RSS, MB</h3>${lineChart(rss, 's', 'RSS per worker, MB')}<h3>CPU, %</h3>${lineChart(cpu, 's', 'CPU per worker, %')}`,
  );
}

export function reportHtml(r: FleetReport): string {
  const m = r.meta;
  const head =
    `<h1>dameso fleet: <span class="${r.ok ? 'ok' : 'fail'}">${r.ok ? 'all checks hold' : 'FAILED'}</span></h1>` +
    `<p>${m.nodes} nodes, ${m.seconds} s, seed ${m.seed}, broker ${esc(m.broker)}, liars ${(m.liarShare * 100).toFixed(0)} % of the mappers; ` +
    `${esc(
      Object.entries(m.behaviours)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    )}</p>`;
  const body = [
    checksSection,
    outcomesSection,
    latencySection,
    faultsSection,
    mapSection,
    reputationSection,
    workersSection,
  ]
    .map((f) => f(r))
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>dameso fleet report</title><style>${STYLE}</style></head><body>${head}\n${body}</body></html>\n`;
}

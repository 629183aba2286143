/**
 * Draws the state into the page: roster, intents, reputation, map. Every text goes in through
 * textContent or the map renderer's escaping; nothing received is ever parsed as HTML.
 */
// The map renderer itself, not the observe folder's index: the index brings node-only modules.
import { cellPolygon, type MapFeature } from '../../src/observe/geojson.js';
import { boundsOf, legendSvg, metricSvg, sharedDefsSvg } from '../../src/observe/map-svg.js';
import { LIMITER_NAMES, SHOWN_INTENTS } from './constants.js';
import { type CellView, type DashboardState, type IntentView, intentTotals, type NodeView } from './state.js';
import { tileMapSvg } from './tiles.js';

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

const byId = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;

/** A bar of [0,1]: green when plenty, amber, red when spent. */
function gauge(name: string, value: number | undefined): HTMLElement {
  const v = value === undefined ? 0 : Math.max(0, Math.min(1, value));
  const level = value === undefined ? 'none' : v > 0.7 ? 'ok' : v > 0.3 ? 'mid' : 'low';
  const fill = el('span', { class: `fill ${level}` });
  // Through the CSSOM: the page's policy refuses style attributes (style-src 'self').
  fill.style.width = `${(v * 100).toFixed(0)}%`;
  const shown = value === undefined ? '-' : v.toFixed(2);
  return el('span', { class: 'gauge', title: `${name} ${shown}`, 'data-limiter': name }, fill);
}

function rosterRow(n: NodeView): HTMLElement {
  const gauges = el('td', { class: 'gauges' }, ...LIMITER_NAMES.map((l) => gauge(l, n.lim?.[l])));
  return el(
    'tr',
    { 'data-node': n.id, 'data-state': n.state, 'data-status': n.statusAt === undefined ? 'none' : 'live' },
    el('td', {}, n.id),
    el('td', {}, n.roles.join(', ') || '-'),
    el('td', { class: 'num' }, n.session === undefined ? '-' : String(n.session)),
    el('td', { class: `state ${n.state}` }, n.state),
    el('td', {}, n.board ?? '-'),
    el('td', {}, n.busy ?? (n.lim ? 'idle' : '-')),
    gauges,
  );
}

export function drawRoster(s: DashboardState): void {
  const nodes = [...s.nodes.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const online = nodes.filter((n) => n.state === 'online').length;
  byId('roster-count').textContent = `${online} online of ${nodes.length}`;
  byId('roster-body').replaceChildren(...nodes.map(rosterRow));
}

/** One intent: a stacked bar of YES / NO (per reason) / SILENCE / OFFLINE and its latency. */
function intentRow(i: IntentView): HTMLElement {
  const no = Object.values(i.no).reduce((a, b) => a + b, 0);
  const total = Math.max(1, i.yes + no + i.silence + i.offline);
  const part = (cls: string, n: number, title: string) => {
    const p = el('span', { class: `part ${cls}`, title: `${title}: ${n}` });
    p.style.flex = String(n / total);
    return p;
  };
  const reasons = Object.entries(i.no).map(([r, n]) => `${r} ${n}`);
  const bar = el(
    'span',
    { class: 'bar' },
    part('yes', i.yes, 'YES'),
    ...Object.entries(i.no).map(([r, n]) => part('no', n, `NO ${r}`)),
    part('silence', i.silence, 'SILENCE'),
    part('offline', i.offline, 'OFFLINE'),
  );
  const counts = `yes ${i.yes} · no ${no}${reasons.length > 0 ? ` (${reasons.join(', ')})` : ''} · silence ${i.silence} · offline ${i.offline}`;
  return el(
    'li',
    {
      'data-intent': i.id,
      'data-yes': String(i.yes),
      'data-no': String(no),
      'data-silence': String(i.silence),
      'data-offline': String(i.offline),
    },
    el('span', { class: 'who' }, `${i.kind} by ${i.requester}`),
    bar,
    el('span', { class: 'counts' }, counts),
    el('span', { class: 'ms' }, `${i.ms.toFixed(0)} ms`),
  );
}

export function drawIntents(s: DashboardState): void {
  const t = intentTotals(s);
  byId('intent-totals').textContent =
    `${s.intents.length} kept of ${s.intentsSeen} seen · yes ${t.yes} · no ${t.no} · silence ${t.silence} · offline ${t.offline}`;
  byId('intent-list').replaceChildren(...s.intents.slice(0, SHOWN_INTENTS).map(intentRow));
}

/** The reputation table as the node chosen in the selector derives it. */
export function drawReputation(s: DashboardState): void {
  const select = byId('rep-node') as HTMLSelectElement;
  const withRep = [...s.nodes.values()].filter((n) => n.rep !== undefined && Object.keys(n.rep).length > 0);
  const ids = withRep.map((n) => n.id).sort();
  const chosen = ids.includes(select.value) ? select.value : (ids[0] ?? '');
  if ([...select.options].map((o) => o.value).join('\n') !== ids.join('\n')) {
    select.replaceChildren(...ids.map((id) => el('option', { value: id }, id)));
  }
  select.value = chosen;
  const rep = s.nodes.get(chosen)?.rep ?? {};
  const rows = Object.entries(rep)
    .sort((a, b) => b[1] - a[1])
    .map(([peer, score]) =>
      el(
        'tr',
        { 'data-peer': peer },
        el('td', {}, peer),
        el('td', { class: 'num' }, score.toFixed(3)),
        el('td', {}, gauge('reputation', score)),
      ),
    );
  byId('rep-body').replaceChildren(...rows);
  byId('rep-empty').hidden = ids.length > 0;
}

function featureOf(c: CellView): MapFeature {
  return {
    type: 'Feature',
    geometry: cellPolygon(c.cell),
    properties: {
      cell: c.cell,
      metric: c.metric,
      value: c.value,
      spread: c.spread,
      method: 'announced',
      responders: [],
      n: c.n,
      seq: 0,
      t: c.t,
      lowConfidence: c.low,
    },
  };
}

/**
 * The consensus map of the chosen metric: on the plain lat/lon grid of `dameso map --html` (its
 * renderer), or over map tiles when the user gave a tile URL.
 */
export function drawMap(s: DashboardState, tiles?: string): void {
  const select = byId('metric') as HTMLSelectElement;
  const cells = [...s.cells.values()];
  const metrics = [...new Set(cells.map((c) => c.metric))].sort();
  if ([...select.options].map((o) => o.value).join('\n') !== metrics.join('\n')) {
    const keep = select.value;
    select.replaceChildren(...metrics.map((m) => el('option', { value: m }, m)));
    if (metrics.includes(keep)) select.value = keep;
  }
  const metric = select.value;
  const features = cells.filter((c) => c.metric === metric).map(featureOf);
  byId('map-count').textContent =
    `${features.length} cells · ${features.filter((f) => f.properties.lowConfidence).length} low confidence`;
  const map = byId('map');
  if (features.length === 0) {
    map.textContent = 'no consensus announced yet';
    return;
  }
  // The renderer escapes every text it writes; the SVG is its output, not received markup.
  const grid = tiles === undefined ? metricSvg(features, boundsOf(features), metric) : '';
  map.innerHTML = sharedDefsSvg() + grid + legendSvg(features, metric);
  if (tiles !== undefined) map.insertBefore(tileMapSvg(features, tiles), map.children[1] ?? null);
}

export function drawAll(s: DashboardState, tiles?: string): void {
  drawRoster(s);
  drawIntents(s);
  drawReputation(s);
  drawMap(s, tiles);
}

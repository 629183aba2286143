/**
 * The consensus map as ONE self-contained HTML page (inline CSS, SVG and a few lines of script; no
 * network, no external font), to open from a USB stick: per metric, the cells on a lat/lon grid
 * coloured by value with a legend, low-confidence cells hatched, every cell's details on hover, a
 * metric selector when there are several, and the time span of the consensus in the header.
 */
import type { MapCollection, MapFeature } from './geojson.js';
import { isoTime } from './iso-time.js';
import { isLowConfidence } from './map-csv.js';
import { boundsOf, esc, legendSvg, metricSvg, num, range, sharedDefsSvg } from './map-svg.js';

export interface MapHtmlOptions {
  /** The node's data folder name, shown in the title and header. */
  node: string;
}

const STYLE = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:16px 24px;color:#1b1b1b;background:#fafafa}
h1{font-size:20px;margin:0 0 4px}
.meta{color:#444;margin:0 0 10px}
.bar{display:flex;gap:16px;align-items:flex-start;margin:6px 0 10px}
section{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
section[hidden]{display:none}
.side{flex:0 0 300px}
svg.defs{position:absolute}
svg.map{flex:1 1 560px;max-width:720px;height:auto;background:#fff;border:1px solid #ccc;display:block}
svg.legend{width:100%;height:auto;display:block;margin:0 0 8px}
.grid{stroke:#d0d0d0;stroke-width:1}
.frame{fill:none;stroke:#888}
.lbl{font-size:12px;fill:#333}
.cell .fill{stroke:#fff;stroke-width:.5}
.cell .val{font-size:12px;fill:#111;pointer-events:none}
.cell .val.on-dark{fill:#fff}
.cell.low .fill{stroke:#111;stroke-width:2;stroke-dasharray:4 2}
.cell:hover .fill{stroke:#e4002b;stroke-width:2.5}
html.no-js #info{display:none}
#info{white-space:pre;font:12px/1.4 ui-monospace,monospace;background:#fff;border:1px solid #ccc;padding:6px 8px;min-height:6.2em;flex:1 1 380px;max-width:560px}
table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}
tr.low td{background:#fff3cd}
`;

/**
 * Marks the page as scripted (the info box is shown only then: without a script the cells' own
 * tooltips remain), shows the chosen metric's section, copies the hovered cell's details.
 */
const SCRIPT = `
(function(){
  document.documentElement.className='js';
  var sel=document.getElementById('metric');
  var secs=document.querySelectorAll('section[data-metric]');
  function show(m){for(var i=0;i<secs.length;i++){secs[i].hidden=secs[i].getAttribute('data-metric')!==m;}}
  if(sel){sel.addEventListener('change',function(){show(sel.value);});show(sel.value);}
  var info=document.getElementById('info');
  var cells=document.querySelectorAll('g.cell');
  for(var i=0;i<cells.length;i++){cells[i].addEventListener('mouseenter',function(){info.textContent=this.querySelector('title').textContent;});}
})();
`;

function byMetric(map: MapCollection): Map<string, MapFeature[]> {
  const out = new Map<string, MapFeature[]>();
  for (const f of map.features) {
    const list = out.get(f.properties.metric) ?? [];
    list.push(f);
    out.set(f.properties.metric, list);
  }
  return new Map([...out.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

function timeSpan(features: readonly MapFeature[]): string {
  if (features.length === 0) return 'no consensus';
  const [oldest, newest] = range(features.map((f) => f.properties.t));
  return `consensus from ${isoTime(oldest)} to ${isoTime(newest)}`;
}

function selector(metrics: readonly string[]): string {
  if (metrics.length < 2) return '';
  const options = metrics.map((m) => `<option value="${esc(m)}">${esc(m)}</option>`).join('');
  return `<label>metric <select id="metric">${options}</select></label>`;
}

function cellTable(features: readonly MapFeature[]): string {
  const rows = features.map((f) => {
    const p = f.properties;
    const cols = [p.cell, num(p.value), num(p.spread), `${p.n}: ${p.responders.join(', ')}`, p.method, String(p.seq)];
    const low = isLowConfidence(f);
    return `<tr${low ? ' class="low"' : ''}>${cols.map((c) => `<td>${esc(c)}</td>`).join('')}<td>${esc(isoTime(p.t))}</td><td>${low ? 'low' : ''}</td></tr>`;
  });
  return (
    '<details><summary>cells as a table</summary><table><tr><th>cell</th><th>value</th><th>spread</th>' +
    `<th>responders</th><th>method</th><th>seq</th><th>time</th><th>confidence</th></tr>${rows.join('')}</table></details>`
  );
}

function section(metric: string, features: readonly MapFeature[], map: MapCollection, first: boolean): string {
  return (
    `<section data-metric="${esc(metric)}"${first ? '' : ' hidden'}>\n` +
    `${metricSvg(features, boundsOf(map.features), metric)}\n` +
    `<div class="side">${legendSvg(features, metric)}\n${cellTable(features)}</div>\n</section>`
  );
}

export function mapHtml(map: MapCollection, o: MapHtmlOptions): string {
  const groups = byMetric(map);
  const metrics = [...groups.keys()];
  const cells = new Set(map.features.map((f) => f.properties.cell)).size;
  const lows = map.features.filter(isLowConfidence).length;
  const sections = metrics.map((m, i) => section(m, groups.get(m)!, map, i === 0)).join('\n');
  const title = `dameso map · ${o.node}`;
  return `<!doctype html>
<html lang="en" class="no-js">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${sharedDefsSvg()}
<h1>${esc(title)}</h1>
<p class="meta">${cells} cell(s), ${map.features.length} consensus value(s), ${lows} low-confidence · ${esc(timeSpan(map.features))} (UTC)</p>
<div class="bar">${selector(metrics)}<div id="info">hover a cell for its value, spread, responders, method, seq and time</div></div>
${sections}
<script>${SCRIPT}</script>
</body>
</html>
`;
}

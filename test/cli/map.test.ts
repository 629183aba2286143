/**
 * `dameso map --html/--csv/--points` end to end: the real command (src/cli/main.ts, bundled once)
 * on a real series; the HTML page also rendered by a real headless Chromium when one is installed.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit.js';
import {
  cellCentre,
  cellOf,
  consensusInput,
  MAP_CSV_COLUMNS,
  observationInput,
  type PointCollection,
  reputationView,
} from '../../src/observe/index.js';
import { createSeries, type EntryInput } from '../../src/series/index.js';
import { bundledMain, runDameso } from '../helpers/series-child.js';
import { withTmpDir } from '../helpers/series-tmp.js';

const CHROMIUM = '/usr/bin/chromium';
/** A responder id that needs quoting in CSV and escaping in HTML. */
const AWKWARD = 'pi "7", <b>roof</b>';
const OBSERVED = [
  { lat: 48.2082, lon: 16.3738 },
  { lat: 48.2101, lon: 16.3801 },
  { lat: 48.2034, lon: 16.3652 },
];

/** Cells on a 4 × 3 grid around Vienna: temp everywhere, hum on some; two with too few responders. */
function consensusEntries(): EntryInput[] {
  const out: EntryInput[] = [];
  for (let i = 0; i < 12; i++) {
    const cell = cellOf(48.2 + Math.floor(i / 4) * 0.004, 16.36 + (i % 4) * 0.006, 7);
    const nodes = i === 5 ? ['a'] : i === 9 ? ['a', AWKWARD] : ['a', 'b', AWKWARD, 'd'];
    const values = nodes.map((node, k) => ({ node, value: 18 + i * 0.7 + k * 0.1 }));
    const opts = { method: 'median' as const, maxShare: 0.5, minResponders: 3 };
    out.push(consensusInput(cell, 'temp', values, reputationView.initial(), 0, opts));
    if (i % 3 === 0) {
      const hum = values.map((v) => ({ ...v, value: 40 + i }));
      out.push(consensusInput(cell, 'hum', hum, reputationView.initial(), 0, opts));
    }
  }
  return out;
}

async function writeFixture(data: string): Promise<EntryInput[]> {
  const series = createSeries({ dir: join(data, 'series'), durability: 'always' });
  await series.open();
  const entries = consensusEntries();
  for (const e of entries) await series.append({ ...e, t: Date.UTC(2026, 4, 1, 12, 0, entries.indexOf(e)) });
  for (const [i, p] of OBSERVED.entries()) {
    await series.append({
      ...observationInput({ ...p, metric: 'temp', value: 20 + i, fix: 1 }, 7),
      t: Date.UTC(2026, 4, 1, 13),
    });
  }
  await series.close();
  return entries;
}

/** RFC 4180: fields, quoted fields with doubled quotes, CRLF rows. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  expect(field, 'the last row ends with CRLF').toBe('');
  return rows;
}

describe('dameso map outputs', () => {
  beforeAll(async () => {
    await bundledMain();
  }, 60_000);

  it('--html: one self-contained page with every cell, the legend, low-confidence cells marked, escaped text', async () => {
    await withTmpDir(async (data) => {
      const entries = await writeFixture(data);
      const file = join(data, 'map.html');
      const r = await runDameso(['map', '--data', data, '--html', file]);
      expect(r.code, r.stderr).toBe(EXIT.ok);
      expect(r.stdout.toString()).toContain(`to ${file}`);
      const html = await readFile(file, 'utf8');
      const urls = html.match(/https?:\/\/[^\s"'<>)]+/g) ?? [];
      expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg']));
      expect(html).not.toMatch(/<link|src=|@import|url\((?!#)/);
      for (const e of entries) expect(html).toContain(`data-cell="${e.cell as string}"`);
      expect(html).toContain('min 18');
      expect(html).toContain('low confidence: 2 cell(s)');
      expect(html.match(/class="cell low"/g)).toHaveLength(3); // temp in 2 cells, hum in 1
      expect(html).toContain('<select id="metric"><option value="hum">hum</option><option value="temp">temp</option>');
      expect(html).toContain('consensus from 2026-05-01T12:00:00.000Z to 2026-05-01T12:00:15.000Z');
      expect(html).not.toContain('<b>roof</b>');
      expect(html).toContain('pi &#34;7&#34;, &#60;b&#62;roof&#60;/b&#62;');
      expect(await readdir(data)).toEqual(['map.html', 'series']); // no temp file left
    });
  });

  it('--html renders in headless Chromium: the SVG cells are in the DOM', async (ctx) => {
    if (!existsSync(CHROMIUM)) {
      ctx.skip(`${CHROMIUM} is not installed (apt-get install -y chromium): the render check is skipped`);
    }
    await withTmpDir(async (data) => {
      await writeFixture(data);
      const file = join(data, 'map.html');
      expect((await runDameso(['map', '--data', data, '--html', file])).code).toBe(EXIT.ok);
      const { stdout, stderr } = await promisify(execFile)(
        CHROMIUM,
        [
          '--headless',
          '--enable-logging=stderr',
          '--v=0',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--no-first-run',
          `--user-data-dir=${join(data, 'chromium')}`,
          '--dump-dom',
          `file://${file}`,
        ],
        { maxBuffer: 16 * 1024 * 1024, timeout: 60_000 },
      );
      // Console messages (script errors, failed loads) are logged as CONSOLE lines: none.
      expect(stderr.split('\n').filter((l) => l.includes(':CONSOLE'))).toEqual([]);
      // The script ran (it marks the page), the first metric shown, the other hidden.
      expect(stdout).toContain('<html lang="en" class="js">');
      expect(stdout).toMatch(/<section data-metric="hum">/);
      expect(stdout).toMatch(/<section data-metric="temp" hidden="">/);
      expect(stdout.match(/<g class="cell/g)).toHaveLength(16);
      expect(stdout).toContain('<rect class="fill"');
    });
  }, 90_000);

  it('--csv: one row per cell and metric that parses back, ISO times, quoted awkward fields', async () => {
    await withTmpDir(async (data) => {
      const entries = await writeFixture(data);
      const file = join(data, 'map.csv');
      const r = await runDameso(['map', '--data', data, '--csv', file, '--json']);
      expect(r.code, r.stderr).toBe(EXIT.ok);
      expect(JSON.parse(r.stdout.toString())).toEqual({ csv: file, features: 16 });
      const text = await readFile(file, 'utf8');
      expect(text).toContain('"a;b;d;pi ""7"", <b>roof</b>"');
      const [header, ...rows] = parseCsv(text);
      expect(header).toEqual([...MAP_CSV_COLUMNS]);
      expect(rows).toHaveLength(entries.length);
      const col = (name: (typeof MAP_CSV_COLUMNS)[number]) => MAP_CSV_COLUMNS.indexOf(name);
      for (const row of rows) {
        expect(row).toHaveLength(MAP_CSV_COLUMNS.length);
        expect(row[col('time')]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        const c = cellCentre(row[col('cell')]!);
        expect([Number(row[col('lat')]), Number(row[col('lon')])]).toEqual([c.lat, c.lon]);
      }
      const low = rows.filter((row) => row[col('low_confidence')] === 'true');
      expect(low.map((row) => row[col('n')])).toEqual(['1', '2', '2']);
      expect(rows.find((row) => row[col('n')] === '4')![col('responders')]).toBe(`a;b;d;${AWKWARD}`);
    });
  });

  it('--csv - prints the CSV alone on stdout; two outputs on stdout are refused', async () => {
    await withTmpDir(async (data) => {
      const entries = await writeFixture(data);
      const r = await runDameso(['map', '--data', data, '--csv', '-']);
      expect(r.code, r.stderr).toBe(EXIT.ok);
      const [header, ...rows] = parseCsv(r.stdout.toString());
      expect(header).toEqual([...MAP_CSV_COLUMNS]);
      expect(rows).toHaveLength(entries.length);
      const both = await runDameso(['map', '--data', data, '--csv', '-', '--geojson', '-']);
      expect(both.code).toBe(EXIT.usage);
      expect(both.stderr.toString()).toMatch(/only one output can go to stdout.*\[DAMESO_USAGE\]/);
      expect(await readdir(data)).not.toContain('-');
    });
  });

  it('--points: the observations as GeoJSON Points at their observed positions (file or stdout)', async () => {
    await withTmpDir(async (data) => {
      await writeFixture(data);
      const stdout = await runDameso(['map', '--data', data, '--points', '--json']);
      expect(stdout.code, stdout.stderr).toBe(EXIT.ok);
      const fromStdout = JSON.parse(stdout.stdout.toString()) as PointCollection;
      const file = join(data, 'points.geojson');
      const r = await runDameso(['map', '--data', data, '--points', '--geojson', file]);
      expect(r.code, r.stderr).toBe(EXIT.ok);
      const fromFile = JSON.parse(await readFile(file, 'utf8')) as PointCollection;
      expect(fromFile).toEqual(fromStdout);
      expect(fromFile.type).toBe('FeatureCollection');
      expect(fromFile.features.map((f) => f.geometry)).toEqual(
        OBSERVED.map((p) => ({ type: 'Point', coordinates: [p.lon, p.lat] })),
      );
      expect(fromFile.features[0]!.properties).toEqual({
        metric: 'temp',
        value: 20,
        t: '2026-05-01T13:00:00.000Z',
        cell: cellOf(OBSERVED[0]!.lat, OBSERVED[0]!.lon, 7),
        seq: expect.any(Number),
        fix: 1,
      });
    });
  });

  it('a missing folder or a folder given as the file: one [DAMESO_…] line naming the path, exit 73', async () => {
    await withTmpDir(async (data) => {
      await writeFixture(data);
      await mkdir(join(data, 'out'));
      const cases = [
        ['--html', join(data, 'nope', 'map.html')],
        ['--csv', join(data, 'out')],
        ['--geojson', join(data, 'nope', 'x.geojson')],
      ];
      for (const [flag, path] of cases) {
        const r = await runDameso(['map', '--data', data, flag!, path!]);
        expect(r.code, `${flag} ${path}`).toBe(EXIT.cantCreate);
        expect(r.stdout.toString()).toBe('');
        const lines = r.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain(path);
        expect(lines[0]).toMatch(/\[DAMESO_CANNOT_WRITE\]$/);
      }
      expect((await readdir(data)).sort()).toEqual(['out', 'series']);
      const points = await runDameso(['map', '--data', data, '--points', '--html', join(data, 'p.html')]);
      expect(points.code).toBe(EXIT.usage);
      expect(points.stderr).toMatch(/--points .*\[DAMESO_USAGE\]\n$/);
    });
  });
});

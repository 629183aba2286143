/**
 * The fleet report from a recorded fleet (real series folders, real checks): the JSON summary's
 * shape, and the HTML page rendered by a real headless Chromium (Debian's, through playwright-core):
 * every section shown, no console error, no request leaving the page; its screenshot goes to docs/.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LATENCY_BUCKETS_MS, runChecks } from '../../src/fleet/checks.js';
import { buildReport, checksText, type FleetReport } from '../../src/fleet/report.js';
import { REPORT_SECTIONS, reportHtml } from '../../src/fleet/report-html.js';
import { START_MS, writeFleetFixture } from '../helpers/fleet-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = fileURLToPath(new URL('../../docs/fleet-report.png', import.meta.url));

let dir: string;
let report: FleetReport;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dameso-report-'));
  const f = await writeFleetFixture(dir);
  const checks = await runChecks({
    ...f,
    runStartMs: START_MS,
    reputationRounds: 3,
    truthToleranceUnits: 0.5,
    pulled: { chunks: 4, mismatched: 0 },
  });
  const workers = [0, 1].map((w) => ({
    name: `worker-${w}`,
    nodes: 8,
    samples: Array.from({ length: 20 }, (_, s) => ({
      s,
      rssMB: 60 + w * 5 + s * 0.2,
      cpuPct: 20 + ((s * 7 + w * 13) % 30),
    })),
  }));
  const seconds = Array.from({ length: 20 }, (_, s) => ({
    s,
    declared: 10,
    yes: 150,
    no: 0,
    silence: 10,
    offline: s >= 10 && s < 12 ? 1 : 0,
  }));
  const faults = [
    ...f.marks,
    { kind: 'stall' as const, atS: 15, startS: 15, endS: 18, nodes: ['fleet-3', 'fleet-9'], ok: true },
    { kind: 'broker-restart' as const, atS: 5, startS: 5, endS: 5.4, nodes: [], ok: true },
  ];
  const meta = {
    nodes: 16,
    seconds: 20,
    seed: 11,
    broker: 'embedded',
    liarShare: 2 / 16,
    behaviours: { honest: 13, liar: 2, silent: 1 },
  };
  report = buildReport(checks, { meta, faults, seconds, workers }, LATENCY_BUCKETS_MS);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('fleet report', () => {
  test('JSON: ok, named checks, percentiles per outcome, time series, faults', () => {
    const json = JSON.parse(JSON.stringify(report)) as FleetReport;
    expect(json.ok).toBe(true);
    expect(json.checks.map((c) => c.name)).toEqual(['classification', 'truth', 'reputation', 'storage']);
    for (const k of ['yes', 'no', 'silenceClose'] as const) {
      expect(Object.keys(json.latency[k]).sort()).toEqual(['histogram', 'n', 'p50', 'p90', 'p99', 'p999']);
    }
    expect(json.latency.bucketsMs.every(Number.isFinite)).toBe(true);
    expect(json.latency.yes.histogram.reduce((a, b) => a + b, 0)).toBe(json.latency.yes.n);
    expect(json.outcomes.length).toBeGreaterThan(10);
    expect(json.seconds).toHaveLength(20);
    expect(json.faults.map((f) => f.kind).sort()).toEqual(['broker-restart', 'kill', 'stall']);
    expect(checksText(json)).toMatch(/^check ok {5}classification: .*\ncheck ok {5}truth: .*\nall checks hold\n$/s);
  });

  test('HTML: self-contained, every section, a failed check shown as FAIL', () => {
    const html = reportHtml(report);
    for (const id of REPORT_SECTIONS) expect(html).toContain(`<section id="${id}">`);
    expect(html).not.toMatch(/<script|https?:\/\/|<link|<img/);
    const failed = reportHtml({
      ...report,
      ok: false,
      checks: [{ name: 'truth', ok: false, detail: 'cell <u09> off' }],
    });
    expect(failed).toContain('<td class="fail">FAIL</td><td>cell &lt;u09&gt; off</td>');
  });

  test.skipIf(!existsSync(CHROMIUM))(
    'renders in headless Chromium: every section visible, no console error, no request out; screenshot',
    async () => {
      const file = path.join(dir, 'report.html');
      await writeFile(file, reportHtml(report));
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
      try {
        const page = await browser.newPage({ viewport: { width: 820, height: 1200 } });
        const problems: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
        });
        page.on('pageerror', (e) => problems.push(e.message));
        const requests: string[] = [];
        page.on('request', (r) => requests.push(r.url()));
        await page.goto(`file://${file}`);
        for (const id of REPORT_SECTIONS) {
          const s = page.locator(`section#${id}`);
          await expect(s.isVisible()).resolves.toBe(true);
          expect(await s.locator('h2').textContent()).not.toBe('');
        }
        expect(await page.locator('#outcomes svg rect').count()).toBeGreaterThan(20);
        expect(await page.locator('#outcomes rect.band').count()).toBe(3);
        expect(await page.locator('#map svg rect').count()).toBe(2);
        expect(await page.locator('#reputation svg path').count()).toBe(4);
        expect(await page.locator('#checks td.ok').count()).toBe(4);
        expect(problems).toEqual([]);
        expect(requests).toEqual([`file://${file}`]);
        await page.screenshot({ path: SCREENSHOT, fullPage: true });
      } finally {
        await browser.close();
      }
    },
    60_000,
  );
});

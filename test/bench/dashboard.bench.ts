/**
 * `npm run bench:dashboard`: what open dashboards cost the broker. One real `dameso broker
 * --http-port` process, six nodes in this process (status service on, a `ping` kind every node
 * answers YES), intents declared at a fixed rate; phases with 0 and with 5 dashboards (real
 * headless Chromium pages on the page port) alternate within the same run, and phases with 5 plain
 * mqtt.js readers subscribed to what a page subscribes to (the broker's share of the cost, without
 * Chromium rendering on the same cores). Measured per phase: the
 * broker process's CPU (utime + stime from /proc) per second, and the intents' close latency
 * p50/p99 (every expected node answered). Reported as medians and ranges over the rounds, and the
 * 5-dashboard figures as ratios of the 0-dashboard ones.
 * Writes bench-results/dashboard-<date>-<n>.json and prints it.
 *
 *   npm run bench:dashboard
 *   BENCH_RUNS=5 BENCH_PHASE_S=15 npm run bench:dashboard
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { type Browser, chromium, type Page } from 'playwright-core';
import { createStatusService } from '../../src/dashboard/index.js';
import type { IntentHandler } from '../../src/intent/types.js';
import { createNode, type DamesoNode } from '../../src/node.js';
import { spawnCli } from '../helpers/node-cli.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PHASE_S = Number(process.env.BENCH_PHASE_S ?? 10);
const NODES = 6;
const DASHBOARDS = 5;
const INTENTS_PER_S = 20;
const DEADLINE_MS = 2_000;
const CHROMIUM = '/usr/bin/chromium';
const CLOCK_TICKS_PER_S = 100; // Linux USER_HZ
const progress = (what: string) => process.stderr.write(`bench:dashboard: ${what}\n`);

const ping: IntentHandler = { kind: 'ping', role: 'pinger', handle: () => ({ r: 'yes' }) };

type Readers = 'none' | 'pages' | 'plain';

interface Phase {
  readers: Readers;
  dashboards: number;
  brokerCpuMsPerS: number;
  intents: number;
  p50Ms: number;
  p99Ms: number;
}

function cpuMs(pid: number): number {
  // Fields after the command name (which may hold spaces, inside parentheses): utime is the 14th, stime the 15th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
}

function pct(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const round = (v: number, digits = 2): number => Number(v.toFixed(digits));

function spread(values: readonly number[]): { median: number; min: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  return { median: round(pct(s, 50)), min: round(s[0] as number), max: round(s.at(-1) as number) };
}

async function startBroker(): Promise<{ child: ChildProcess; port: number; httpUrl: string }> {
  const child = spawnCli([
    'broker',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--http-port',
    '0',
    '--json',
    '--log-level',
    'warn',
  ]);
  // The broker's warnings show up in the benchmark's own output.
  child.stderr?.pipe(process.stderr);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"event":"listening"'));
      if (line !== undefined) {
        const at = JSON.parse(line) as { port: number; httpUrl: string };
        resolve({ child, port: at.port, httpUrl: at.httpUrl });
      }
    });
    child.once('exit', (code) => reject(new Error(`broker exited with ${code}`)));
  });
}

/** Declares `ping` at INTENTS_PER_S round-robin for PHASE_S; the close latencies. */
async function declarePhase(nodes: readonly DamesoNode[]): Promise<number[]> {
  const latencies: number[] = [];
  const pending: Promise<unknown>[] = [];
  const total = PHASE_S * INTENTS_PER_S;
  const started = performance.now();
  for (let k = 0; k < total; k++) {
    const due = started + (k * 1000) / INTENTS_PER_S;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const node = nodes[k % nodes.length] as DamesoNode;
    pending.push(
      Promise.resolve(node.declare('ping', { deadlineMs: DEADLINE_MS })).then((o) => {
        if (o.silence.length === 0 && o.offline.length === 0) latencies.push(o.elapsedMs);
      }),
    );
  }
  await Promise.all(pending);
  return latencies.sort((a, b) => a - b);
}

async function openDashboards(browser: Browser, url: string, n: number): Promise<Page[]> {
  const pages: Page[] = [];
  for (let i = 0; i < n; i++) {
    const page = await browser.newPage();
    await page.goto(url);
    await page.waitForSelector(`#roster-body tr[data-state="online"]:nth-child(${NODES})`, { timeout: 30_000 });
    pages.push(page);
  }
  return pages;
}

/** What a page subscribes to, from mqtt.js over the page port's WebSocket, without a browser. */
async function openReaders(url: string, n: number): Promise<MqttClient[]> {
  const wsUrl = `${url.replace(/^http/, 'ws')}mqtt`;
  const filters = ['presence', 'status', 'consensus'].map((f) => `dameso/v1/${f}/+`);
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const c = await mqtt.connectAsync(wsUrl, { clientId: `dameso-view.bench.${i}`, reconnectPeriod: 0 });
      await c.subscribeAsync(filters, { qos: 0 });
      return c;
    }),
  );
}

async function phase(
  readers: Readers,
  ctx: { nodes: DamesoNode[]; browser: Browser; url: string; pid: number },
): Promise<Phase> {
  const dashboards = readers === 'none' ? 0 : DASHBOARDS;
  const pages = readers === 'pages' ? await openDashboards(ctx.browser, ctx.url, dashboards) : [];
  const plain = readers === 'plain' ? await openReaders(ctx.url, dashboards) : [];
  const cpu0 = cpuMs(ctx.pid);
  const t0 = performance.now();
  const latencies = await declarePhase(ctx.nodes);
  const cpu = cpuMs(ctx.pid) - cpu0;
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all([...pages.map((p) => p.close()), ...plain.map((c) => c.endAsync())]);
  return {
    readers,
    dashboards,
    brokerCpuMsPerS: round(cpu / seconds),
    intents: latencies.length,
    p50Ms: round(pct(latencies, 50)),
    p99Ms: round(pct(latencies, 99)),
  };
}

function nextResultFile(date: string): string {
  const dir = 'bench-results';
  mkdirSync(dir, { recursive: true });
  const taken = readdirSync(dir).filter((f) => f.startsWith(`dashboard-${date}-`)).length;
  return path.join(dir, `dashboard-${date}-${taken + 1}.json`);
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is needed (apt-get install -y chromium)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dameso-bench-dashboard-'));
  const began = performance.now();
  const loadStart = os.loadavg().map((x) => round(x));
  const broker = await startBroker();
  const nodes: DamesoNode[] = [];
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    for (let i = 0; i < NODES; i++) {
      const node = createNode({
        id: `bench-${i}`,
        roles: ['pinger'],
        broker: `mqtt://127.0.0.1:${broker.port}`,
        dataDir: path.join(dir, `n${i}`),
        handlers: [ping],
        kindRoles: { ping: 'pinger' },
        services: [createStatusService()],
        durability: 'none',
      });
      await node.start();
      nodes.push(node);
    }
    const ctx = { nodes, browser, url: broker.httpUrl, pid: broker.child.pid as number };
    await phase('none', ctx); // warm-up (JIT, page build, first status records), not reported
    const phases: Phase[] = [];
    const orders: Readers[][] = [
      ['none', 'pages', 'plain'],
      ['pages', 'plain', 'none'],
      ['plain', 'none', 'pages'],
    ];
    for (let r = 0; r < RUNS; r++) {
      // Rotating order: drift over the run weighs on every side alike.
      for (const readers of orders[r % orders.length] as Readers[]) {
        progress(`round ${r + 1}/${RUNS}, readers: ${readers}`);
        phases.push(await phase(readers, ctx));
      }
    }
    const summary = (readers: Readers) => {
      const side = phases.filter((p) => p.readers === readers);
      return {
        brokerCpuMsPerS: spread(side.map((p) => p.brokerCpuMsPerS)),
        p50Ms: spread(side.map((p) => p.p50Ms)),
        p99Ms: spread(side.map((p) => p.p99Ms)),
      };
    };
    const none = summary('none');
    const five = summary('pages');
    const fivePlain = summary('plain');
    const ratioTo = (s: typeof none) => ({
      brokerCpu: round(s.brokerCpuMsPerS.median / none.brokerCpuMsPerS.median),
      p50: round(s.p50Ms.median / none.p50Ms.median),
      p99: round(s.p99Ms.median / none.p99Ms.median),
    });
    const date = new Date().toISOString().slice(0, 10);
    const result = {
      bench: 'dashboard',
      date: new Date().toISOString(),
      runs: RUNS,
      phaseS: PHASE_S,
      nodes: NODES,
      intentsPerS: INTENTS_PER_S,
      dashboards: DASHBOARDS,
      node: process.version,
      machine: { cpus: os.cpus().length },
      load: { start: loadStart, end: os.loadavg().map((x) => round(x)) },
      elapsed_s: round((performance.now() - began) / 1000),
      // Chromium renders the 5 pages on the same machine: its CPU weighs on the intents' latency too.
      note: 'dashboards are headless Chromium pages on the same machine as the broker and the nodes',
      none,
      five,
      fivePlain,
      ratio: ratioTo(five),
      ratioPlain: ratioTo(fivePlain),
      each: phases,
    };
    const file = nextResultFile(date);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    progress(`wrote ${file}`);
  } finally {
    await browser.close();
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
    broker.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

/**
 * `npm run bench:footprint`: what dameso costs on a board, each figure against a baseline measured
 * in the same run, as a ratio:
 * - CLI start: `dameso --version` and `dameso limits --help` (from the x64 bundle this run builds)
 *   against `node -e 0`, wall and CPU seconds;
 * - idle memory: a `--roles bt` node from the bundle against a bare mqtt.js client process, both on
 *   the bundle's broker in a third process, run with the unit's Node flags;
 * - the answer path: 10 responder processes answering `want_chunk` (real nodes) against 10 raw
 *   mqtt.js responder processes answering the same payload, broker in its own process (the
 *   `procs` layout of bench:intents, every child running one esbuild bundle): p50, p99, CPU µs
 *   per answer of one responder process;
 * - the bundle's size.
 * Writes bench-results/footprint-<date>-<n>.json (read by `npm run bench:table`) and prints it.
 *
 *   npm run bench:footprint
 *   BENCH_JS=dist/src/cli/main.js npm run bench:footprint   # the CLI figures from another build
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleJs, stamp } from '../../scripts/bundle.js';
import { measureStart } from './footprint/cli.js';
import { measureIdle, startBrokerProcess } from './footprint/idle.js';
import { procsLayout } from './intents/layouts.js';
import { compare, r2 } from './intents/measure.js';
import { damesoSide, rawSide } from './intents/sides.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CLI_RUNS = Number(process.env.BENCH_CLI_RUNS ?? 10);
const IDLE_ROUNDS = Number(process.env.BENCH_IDLE_ROUNDS ?? 3);
const RESPONDERS = 10;
const TARGETS = { cliStartS: 0.15, idleRssRatio: 1.15, answerP50Ratio: 1.5 };

const progress = (what: string) => process.stderr.write(`bench:footprint: ${what}\n`);

function buildBundle(out: string): { js: string; jsBytes: number; tarballBytes: number } {
  const lines = execFileSync(
    process.execPath,
    ['--import', 'tsx', path.join(REPO, 'scripts/bundle.ts'), '--arch', 'x64', '--out', out],
    { cwd: REPO },
  ).toString();
  const tarball = /^(\S+\.tar\.gz) /m.exec(lines)?.[1];
  const js = path.join(out, 'dameso.mjs');
  if (!tarball || !existsSync(js)) throw new Error(`bundle: unexpected output: ${lines}`);
  return { js, jsBytes: statSync(js).size, tarballBytes: statSync(tarball).size };
}

async function cliFigures(js: string) {
  progress(`CLI start, ${CLI_RUNS} runs each against node -e 0`);
  return {
    js: path.relative(REPO, js).startsWith('..') ? 'the x64 bundle' : path.relative(REPO, js),
    version: await measureStart([js, '--version'], CLI_RUNS),
    limitsHelp: await measureStart([js, 'limits', '--help'], CLI_RUNS),
  };
}

async function idleFigures(js: string) {
  progress(`idle RSS, ${IDLE_ROUNDS} rounds`);
  const broker = await startBrokerProcess(js);
  try {
    return await measureIdle(js, broker.url, REPO, IDLE_ROUNDS);
  } finally {
    await broker.stop();
  }
}

async function answerFigures(root: string) {
  progress(`answer path, ${RESPONDERS} responder processes per side`);
  // Both sides' responder processes run one bundled file, as on a board (never a stale dist/ or tsx).
  const childJs = path.join(root, 'bench-child.mjs');
  await bundleJs(childJs, stamp(), path.join(REPO, 'test/bench/intents/child.ts'));
  process.env.BENCH_CHILD_JS = childJs;
  const layout = procsLayout((err) => {
    progress(`a child died: ${err.message}`);
    process.exit(1);
  });
  const broker = await layout.startBroker();
  try {
    const raw = await rawSide(layout, broker.url, RESPONDERS);
    const dam = await damesoSide(layout, broker.url, RESPONDERS, root);
    const m = await compare(raw, dam, RESPONDERS);
    await raw.stop();
    await dam.stop();
    const perAnswer = (x: { responderCpuUsPerIntent?: number }) =>
      x.responderCpuUsPerIntent === undefined ? null : Math.round(x.responderCpuUsPerIntent / RESPONDERS);
    return {
      children: layout.facts,
      raw: { p50Ms: m.raw.p50Ms, p99Ms: m.raw.p99Ms, cpuUsPerAnswer: perAnswer(m.raw) },
      dameso: { p50Ms: m.dameso.p50Ms, p99Ms: m.dameso.p99Ms, cpuUsPerAnswer: perAnswer(m.dameso) },
      ratio: {
        p50: r2(m.dameso.p50Ms / m.raw.p50Ms),
        p99: r2(m.dameso.p99Ms / m.raw.p99Ms),
        cpuPerAnswer: m.raw.responderCpuUsPerIntent
          ? r2((m.dameso.responderCpuUsPerIntent ?? 0) / m.raw.responderCpuUsPerIntent)
          : null,
      },
    };
  } finally {
    await broker.stop();
    layout.dispose();
  }
}

/** bench-results/footprint-<date>-<n>.json with the first free n. */
function resultFile(): string {
  const date = new Date().toISOString().slice(0, 10);
  for (let n = 1; ; n++) {
    const f = path.join(REPO, 'bench-results', `footprint-${date}-${n}.json`);
    if (!existsSync(f)) return f;
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const loadStart = os.loadavg().map(r2);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'dameso-bench-footprint-'));
  try {
    const bundle = buildBundle(scratch);
    const js = process.env.BENCH_JS ? path.resolve(REPO, process.env.BENCH_JS) : bundle.js;
    const cli = await cliFigures(js);
    const idle = await idleFigures(bundle.js);
    const answers = await answerFigures(scratch);
    const out = {
      bench: 'footprint',
      node: process.version,
      machine: { cpus: os.availableParallelism() },
      load: { start: loadStart, end: os.loadavg().map(r2) },
      elapsed_s: Math.round((performance.now() - t0) / 1000),
      bundle: { jsBytes: bundle.jsBytes, tarballBytes: bundle.tarballBytes },
      cli,
      idle,
      answers,
      targets: {
        version_start_le_0_15_s: cli.version.wallS.median <= TARGETS.cliStartS,
        limits_start_le_0_15_s: cli.limitsHelp.wallS.median <= TARGETS.cliStartS,
        idle_rss_le_1_15x_bare_client: idle.ratio.median <= TARGETS.idleRssRatio,
        answer_p50_le_1_5x_raw: answers.ratio.p50 <= TARGETS.answerP50Ratio,
      },
    };
    const file = resultFile();
    writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
    progress(`wrote ${path.relative(REPO, file)}`);
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
process.exit(0);

/**
 * `npm run bench:survey`: a survey round (declare `want_observations` for one cell → consensus
 * entries durable) against raw mqtt.js scatter-gather of the same answers, and what background
 * backup costs that round. One process: dameso's Aedes host (TCP_NODELAY) on a real port, every
 * node and raw client on its own TCP connection. Prints one JSON object on stdout, a summary on
 * stderr.
 *
 * 1. For N = 10, 50, 100 mappers (BENCH_SIZES) in the cell, each holding READINGS_PER_RESPONDER
 *    readings there (series on, `batch` durability, always-YES gate unless BENCH_GATE=limiters, the
 *    intents bench's board): a round of the requester's survey loop vs a raw requester publishing one request to N raw
 *    clients that answer with a captured dameso YES envelope, the median taken once all N are in.
 *    Warm-up, then alternating blocks (order swapped each block); p50/p90/p99 and dameso/raw.
 * 2. 10 mappers with the chunks service (`bt` too), sensors reading every second: `observe(cell)`
 *    with the background backup running and not, in alternating timed blocks; p50/p99 and on/off
 *    (survey/backup.ts).
 *
 *   npm run bench:survey
 *   BENCH_ROUNDS_SCALE=2 npm run bench:survey   # twice the rounds and block time
 *   BENCH_SIZES=100 npm run bench:survey
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBrokerHost } from '../../broker/index.js';
import { r2 } from './intents/measure.js';
import { measureBackup } from './survey/backup.js';
import {
  DURABILITY,
  GATE_LIMITERS,
  READINGS_PER_RESPONDER,
  SIZES,
  surveyRounds,
  WATCHDOG_MS,
} from './survey/config.js';
import { measureSurvey } from './survey/survey.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'dameso-bench-survey-'));
const cleanup = () => rmSync(root, { recursive: true, force: true });
const say = (line: string) => process.stderr.write(`bench:survey: ${line}\n`);

function die(err: unknown): never {
  say(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  cleanup();
  process.exit(1);
}

type SurveyResult = Awaited<ReturnType<typeof measureSurvey>>;
type BackupResult = Awaited<ReturnType<typeof measureBackup>>;

function sayBackup(b: BackupResult): void {
  say(
    `backup off/on (${b.responders} responders, ${b.off.rounds}/${b.on.rounds} rounds): p50 ${b.off.round.p50Ms}/${b.on.round.p50Ms} ms, ` +
      `p99 ${b.off.round.p99Ms}/${b.on.round.p99Ms} ms; on/off p50 ${b.ratio_on_off.round.p50}, p99 ${b.ratio_on_off.round.p99} ` +
      `(${b.backup_work_in_on_blocks.chunks} chunks pushed in the on blocks)`,
  );
}

async function main() {
  const t0 = performance.now();
  const loadStart = os.loadavg().map(r2);
  // Every connection of the bench comes from 127.0.0.1: room for all of them from one address.
  const brokerOptions = { host: '127.0.0.1', port: 0, maxConnectionsPerIp: 1000 };
  const host = createBrokerHost(brokerOptions);
  const { url } = await host.start();
  const survey: Record<string, SurveyResult> = {};
  let backup: BackupResult;
  try {
    for (const n of SIZES) {
      say(`survey round, ${n} responders (${surveyRounds(n)} rounds per arm)…`);
      const r = await measureSurvey(url, n, root);
      survey[`responders_${n}`] = r;
      const d = r.dameso.round;
      say(
        `  raw p50/p90/p99 ${r.raw.p50Ms}/${r.raw.p90Ms}/${r.raw.p99Ms} ms, dameso loop round ${d.p50Ms}/${d.p90Ms}/${d.p99Ms} ms, ` +
          `ratio ${r.ratio.p50}/${r.ratio.p90}/${r.ratio.p99} (declare→consensus ${r.ratio_declare_to_consensus.p50}/${r.ratio_declare_to_consensus.p90}/${r.ratio_declare_to_consensus.p99}, ` +
          `declare→close ${r.ratio_declare_to_close.p50}/${r.ratio_declare_to_close.p90}/${r.ratio_declare_to_close.p99}); closed by ${JSON.stringify(r.dameso.closedBy)}`,
      );
    }
    say('background backup on/off…');
    backup = await measureBackup(url, root);
    sayBackup(backup);
  } finally {
    await host.stop();
  }
  return {
    bench: 'survey',
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30) },
    node: process.version,
    load: { start: loadStart, end: os.loadavg().map(r2) },
    layout:
      'one process: dameso Aedes host (TCP_NODELAY) on 127.0.0.1, requester and every responder (node or raw client) on its own TCP connection',
    dameso: `real mapper nodes: series on (${DURABILITY} durability), ${GATE_LIMITERS ? 'limiters gate on (generic board, intent capacity raised)' : 'always-YES gate (decisions recorded; BENCH_GATE=limiters for the limiters)'}, ${READINGS_PER_RESPONDER} readings each in the cell; round = one round of the requester's survey loop (surveyNow(): observe(cell) until its consensus entries are durable, then the survey entry durable)`,
    raw: 'plain mqtt.js: one request to N clients, each answers with a captured dameso YES envelope (re-encoded with the request id), requester decodes all N and takes the median',
    survey,
    backup,
    elapsed_s: r2((performance.now() - t0) / 1000),
  };
}

const watchdog = setTimeout(() => die(new Error(`still running after ${WATCHDOG_MS / 1000} s`)), WATCHDOG_MS);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanup();
    process.exit(130);
  });
}
const out = await main().catch(die);
process.stdout.write(`${JSON.stringify(out)}\n`);
cleanup();
process.exit(0);

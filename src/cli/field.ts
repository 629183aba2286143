/**
 * `dameso field` (what `npm start` runs): an embedded broker and a handful of nodes of both roles in
 * this process, each with its own series (under a temp folder or `--data`) and its limiters,
 * declaring intents at a steady rate and printing a live summary (outcome mix, reply and close
 * latencies p50/p99) every second until Ctrl-C or `--duration`.
 *
 * The nodes' handlers simulate holdings so the outcome mix is varied: a `bt` node holds a chunk id
 * when hash(node, id) % 3 = 0 (else silence), a `mapper` node has observations for a cell when
 * hash(node, cell) % 2 = 0. NO answers come from the real limiters.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { type Board, loadBoard } from '../../devices/boards/index.js';
import { systemClock } from '../clock.js';
import { createStatusService } from '../dashboard/index.js';
import { DamesoError, hasCode, messageOf } from '../errors.js';
import type { IntentHandler, Outcome } from '../intent/index.js';
import type { Logger } from '../log.js';
import { startEmbeddedBroker } from '../node/embedded.js';
import { createNode, type DamesoNode } from '../node.js';
import { LatencyReservoir } from '../reservoir.js';
import { roundTo } from '../round-to.js';
import { dashboardHttp, HTTP_PORT_FLAG, parseHttpPort } from './dashboard-flags.js';
import { LOG_FORMAT_FLAG, LOG_LEVEL_FLAG, loggerFromFlags } from './log-flags.js';
import { untilSignal } from './node.js';

interface FieldFlags {
  nodes: string;
  duration: string;
  rate: string;
  deadline: string;
  data?: string;
  device?: string;
  httpPort: string;
  json?: boolean;
  logLevel?: string;
  logFormat?: string;
}

/** Latencies kept for percentiles (a ring: the newest ones). */
const RESERVOIR = 10_000;

const hash = (a: string, b: string): number => createHash('sha256').update(`${a}/${b}`).digest().readUInt32BE(0);

function simHandlers(id: string): IntentHandler[] {
  return [
    {
      kind: 'want_chunk',
      role: 'bt',
      relevant: (i) => hash(id, i.envelope.subject ?? '') % 3 === 0,
      handle: (i) => ({ r: 'yes', data: Buffer.from(`chunk ${i.envelope.subject ?? ''} from ${id}`) }),
    },
    {
      kind: 'want_observations',
      role: 'mapper',
      relevant: (i) => hash(id, i.envelope.subject ?? '') % 2 === 0,
      handle: (i) => ({
        r: 'yes',
        data: [{ metric: 'temp_c', value: 15 + (hash(id, i.envelope.subject ?? '') % 100) / 10 }],
      }),
    },
  ];
}

export interface FieldSummary {
  seconds: number;
  nodes: number;
  intents: number;
  open: number;
  expected: number;
  yes: number;
  no: number;
  /** NO answers by reason (`rate_limited`, `cpu_busy`, …): why the field refused. */
  noBy: Record<string, number>;
  silence: number;
  offline: number;
  late: number;
  closedBy: Record<string, number>;
  replyP50Ms: number;
  replyP99Ms: number;
  closeP50Ms: number;
  closeP99Ms: number;
}

function positive(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min)
    throw new DamesoError('DAMESO_USAGE', `${flag} must be a number >= ${min}, got "${v}"`);
  return n;
}

export function registerField(program: Command): void {
  program
    .command('field')
    .description(
      'run a local field (what `npm start` runs): an embedded broker and N nodes of both roles in ' +
        'this process declaring intents, with a live summary of the outcome mix and latencies',
    )
    .option('--nodes <n>', 'nodes in the field (roles cycle bt+mapper, bt, mapper)', '6')
    .option('--duration <s>', 'stop after this many seconds (0 = until Ctrl-C)', '0')
    .option('--rate <n>', 'intents declared per second across the field', '20')
    .option('--deadline <ms>', 'deadline of each intent, ms', '500')
    .option('--data <dir>', 'data folder for the nodes (default: a temp folder, removed at exit)')
    .option('--device <board>', 'board profile of every node (budgets, intent capacity); default generic')
    .option(
      HTTP_PORT_FLAG[0],
      `${HTTP_PORT_FLAG[1].replace('(0 = any free port)', '(default 0: any free port; its URL is printed)')}`,
      '0',
    )
    .option('--json', 'print only the final summary, as one JSON object')
    .option(LOG_LEVEL_FLAG[0], LOG_LEVEL_FLAG[1].replace('default info', 'default warn'))
    .option(...LOG_FORMAT_FLAG)
    .addHelpText(
      'after',
      `
Summary line:
  intents=N   intents declared so far; open=N those still open (deadline not reached, not all replied)
  replies:    yes/no/late count replies per peer (one intent asks several peers), NO reasons in ()
  silent peers / offline peers: expected peers that stayed silent (a valid answer) or went offline
  reply / close p50 p99: ms from declaration to a reply, and to the intent's close

Example:
  dameso field --nodes 6 --rate 20 --duration 30
  dameso field --http-port 8080                      # then open http://127.0.0.1:8080/

Exit codes: 0 ok; 64 bad flags; 78 unknown --device board.`,
    )
    .action(runField);
}

async function runField(flags: FieldFlags): Promise<void> {
  const n = Math.floor(positive('--nodes', flags.nodes, 2));
  const durationS = positive('--duration', flags.duration, 0);
  const rate = positive('--rate', flags.rate, 0.1);
  const deadlineMs = Math.floor(positive('--deadline', flags.deadline, 1));
  // Before anything starts: an unknown board is a config error (exit 78), not a half-built field.
  const board = loadBoard(flags.device);
  const log = loggerFromFlags(flags, { level: 'warn' });
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const root = flags.data ?? (await mkdtemp(path.join(os.tmpdir(), 'dameso-field-')));
  // The field runs without its page where the page was never built (a bundle without esbuild).
  const http = await dashboardHttp(parseHttpPort(flags.httpPort), { auth: false }).catch((err: unknown) => {
    if (!hasCode(err, 'DAMESO_DASHBOARD_UNBUILT')) throw err;
    process.stderr.write(`field: no dashboard: ${messageOf(err)}\n`);
    return undefined;
  });
  // All the field's nodes connect from this machine's one address.
  const broker = await startEmbeddedBroker({
    port: 0,
    log,
    maxConnectionsPerIp: Math.max(64, n * 2 + 16),
    ...(http !== undefined ? { http } : {}),
  });
  const nodes: DamesoNode[] = [];
  const tally = fieldTally(n);
  let declarer: ReturnType<typeof systemClock.setInterval> | undefined;
  let printer: ReturnType<typeof systemClock.setInterval> | undefined;
  try {
    for (let i = 0; i < n; i++) {
      const node = fieldNode(i, broker.url, root, board, log);
      nodes.push(node);
      await node.start();
    }
    declarer = startDeclaring(nodes, tally, rate, deadlineMs, log);
    if (!flags.json) {
      process.stdout.write(banner(n, board, broker, rate, root));
      printer = systemClock.setInterval(() => process.stdout.write(`${line(tally.snapshot())}\n`), 1000);
    }
    const stopAfter =
      durationS > 0
        ? new Promise<void>((r) => systemClock.setTimeout(r, durationS * 1000))
        : new Promise<void>(() => {});
    await Promise.race([untilSignal(), stopAfter]);
  } finally {
    // A second Ctrl-C (npm and tsx pass the first one on again) must not cut the clean-up short.
    const holdSignals = (): void => undefined;
    process.on('SIGINT', holdSignals);
    process.on('SIGTERM', holdSignals);
    systemClock.clearInterval(declarer);
    systemClock.clearInterval(printer);
    const final = tally.snapshot();
    await Promise.all(nodes.map((x) => x.stop().catch(() => undefined)));
    await broker.stop();
    for (const x of nodes) tally.sum.late += x.intents.stats().declare.late;
    final.late = tally.sum.late;
    process.stdout.write(`${flags.json ? JSON.stringify(final) : `final: ${line(final)}`}\n`);
    if (flags.data === undefined) await rm(root, { recursive: true, force: true });
    clearInterval(keepAlive);
    process.off('SIGINT', holdSignals);
    process.off('SIGTERM', holdSignals);
  }
}

/** Node `i` of the field: roles cycle bt+mapper, bt, mapper; simulated handlers. */
function fieldNode(i: number, brokerUrl: string, root: string, board: Board, log: Logger): DamesoNode {
  const id = `field-${i}`;
  const roles = [['bt', 'mapper'], ['bt'], ['mapper']][i % 3] ?? ['bt'];
  return createNode({
    id,
    roles,
    broker: brokerUrl,
    dataDir: path.join(root, id),
    handlers: simHandlers(id),
    // Each node's limiters and closed intents, for the dashboard.
    services: [createStatusService()],
    rosterQuietMs: 50,
    device: board,
    log,
  });
}

interface FieldTally {
  sum: FieldSummary;
  onOutcome(outcome: Outcome): void;
  /** The summary now, percentiles and seconds filled in. */
  snapshot(): FieldSummary;
}

function fieldTally(n: number): FieldTally {
  const sum: FieldSummary = {
    seconds: 0,
    nodes: n,
    intents: 0,
    open: 0,
    expected: 0,
    yes: 0,
    no: 0,
    noBy: {},
    silence: 0,
    offline: 0,
    late: 0,
    closedBy: {},
    replyP50Ms: 0,
    replyP99Ms: 0,
    closeP50Ms: 0,
    closeP99Ms: 0,
  };
  const replies = new LatencyReservoir(RESERVOIR);
  const closes = new LatencyReservoir(RESERVOIR);
  const started = systemClock.monotonic();
  return {
    sum,
    onOutcome(outcome) {
      sum.open--;
      sum.expected += outcome.expected.length;
      sum.yes += outcome.yes.length;
      sum.no += outcome.no.length;
      for (const r of outcome.no) {
        const reason = r.envelope.reason ?? '?';
        sum.noBy[reason] = (sum.noBy[reason] ?? 0) + 1;
      }
      sum.silence += outcome.silence.length;
      sum.offline += outcome.offline.length;
      sum.closedBy[outcome.closedBy] = (sum.closedBy[outcome.closedBy] ?? 0) + 1;
      for (const r of [...outcome.yes, ...outcome.no]) replies.push(r.latencyMs);
      closes.push(outcome.elapsedMs);
    },
    snapshot: () => ({
      ...sum,
      noBy: { ...sum.noBy },
      seconds: Math.round((systemClock.monotonic() - started) / 100) / 10,
      replyP50Ms: roundTo(replies.pct(50)),
      replyP99Ms: roundTo(replies.pct(99)),
      closeP50Ms: roundTo(closes.pct(50)),
      closeP99Ms: roundTo(closes.pct(99)),
    }),
  };
}

/** Declares `rate` intents per second, taking the nodes in turn (chunk and observation kinds alternate). */
function startDeclaring(
  nodes: readonly DamesoNode[],
  tally: FieldTally,
  rate: number,
  deadlineMs: number,
  log: Logger,
): ReturnType<typeof systemClock.setInterval> {
  let k = 0;
  return systemClock.setInterval(() => {
    const node = nodes[k++ % nodes.length]!;
    const chunk = k % 2 === 0;
    const subject = chunk ? randomBytes(32).toString('hex') : `u4pruyd${'0123456789bcdefg'[k % 16]}`;
    try {
      const intent = node.declare(chunk ? 'want_chunk' : 'want_observations', { subject, deadlineMs });
      tally.sum.intents++;
      tally.sum.open++;
      void intent.then(tally.onOutcome);
    } catch (err) {
      log.warn({ err }, 'field: declare failed');
    }
  }, 1000 / rate);
}

function banner(
  n: number,
  board: Board,
  broker: { url: string; httpUrl?: string | undefined },
  rate: number,
  root: string,
): string {
  const cap = board.intents;
  return (
    `field: ${n} nodes (board ${board.board}: each answers up to ${cap.capacityPerWindow} intents per ` +
    `${cap.windowMs / 1000} s, NO rate_limited past ${Math.round((1 - board.thresholds.rateLimitedBelow) * 100)}%) ` +
    `on ${broker.url}, ${rate} intents/s, data ${root}; Ctrl-C to stop\n` +
    (broker.httpUrl === undefined ? '' : `field: dashboard on ${broker.httpUrl} (open it in a browser)\n`)
  );
}

function line(s: FieldSummary): string {
  return (
    // yes/no/silent/offline count per-peer replies (one intent has several peers), not intents.
    `t=${s.seconds}s intents=${s.intents} open=${s.open} | replies: yes=${s.yes} no=${s.no}${noDetail(s.noBy)} ` +
    `late=${s.late} | silent peers=${s.silence} offline peers=${s.offline} | reply p50=${s.replyP50Ms}ms p99=${s.replyP99Ms}ms | ` +
    `close p50=${s.closeP50Ms}ms p99=${s.closeP99Ms}ms`
  );
}

/** ` (rate_limited 12, cpu_busy 3)`, or nothing when there was no NO. */
function noDetail(by: Record<string, number>): string {
  const parts = Object.entries(by)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

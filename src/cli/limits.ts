/**
 * `dameso limits [--device B] [--data DIR] [--replay] [--json]`: sample this machine for a short
 * moment and print the live limiter values with the budgets they are measured against, and what the
 * policy would answer right now; with `--data`, also the decisions recorded in that node's series.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { type Board, DEFAULT_BOARD, heapFlag, loadBoard } from '../../devices/boards/index.js';
import { systemClock } from '../clock.js';
import { DamesoError } from '../errors.js';
import {
  createDirUsage,
  createNodeLimiters,
  DEFAULT_LIMITS_SAMPLE_MS,
  decide,
  LIMITER_NAMES,
  type LimiterHistory,
  readLimiterHistory,
} from '../limiters/index.js';
import type { LimiterValues } from '../protocol/index.js';
import { requireExistingDir } from './fs-errors.js';

interface LimitsFlags {
  device: string;
  data?: string;
  json?: boolean;
  replay?: boolean;
  ms: string;
}

export function registerLimits(program: Command): void {
  program
    .command('limits')
    .description(
      'sample this machine briefly and print the six rate limiters (1 = plenty, 0 = exhausted), the ' +
        'budgets of the board profile they are measured against, and what a node would answer now',
    )
    .option(
      '--device <board>',
      'board profile (pi-zero-2w, pi-3b, pi-4b, pi-400, pi-cm4, pi-5, generic), or auto: the board this runs on; e.g. --device auto',
      DEFAULT_BOARD,
    )
    .option(
      '--data <dir>',
      "a node's data folder: its files count against the storage budget and its file system is statfs-ed " +
        '(default: nothing stored, statfs of the current folder)',
    )
    .option('--ms <ms>', 'how long to sample, ms', String(DEFAULT_LIMITS_SAMPLE_MS))
    .option(
      '--replay',
      "with --data: replay every decision in the node's series through the policy (reads the whole ring)",
    )
    .option('--json', 'print one JSON object')
    .action(runLimits);
}

async function runLimits(flags: LimitsFlags): Promise<void> {
  const sampleMs = Number(flags.ms);
  if (!Number.isFinite(sampleMs) || sampleMs < 100) {
    throw new DamesoError('DAMESO_USAGE', `--ms must be a number of ms >= 100, got "${flags.ms}"`);
  }
  const board = loadBoard(flags.device);
  if (flags.data !== undefined) await requireExistingDir(flags.data, '--data');
  const dir = flags.data ?? process.cwd();
  const sampled = await sampleLimiters(board, flags.data, dir, sampleMs);
  const { values, details, thresholds } = sampled;
  const verdict = decide(values, thresholds);
  const history = flags.data === undefined ? undefined : await readLimiterHistory(flags.data, { replay: flags.replay });
  const report = {
    board: board.board,
    data: flags.data ?? null,
    sampledMs: sampleMs,
    values,
    budgets: details,
    thresholds,
    wouldAnswer: verdict.r === 'yes' ? 'yes' : `no ${verdict.reason}`,
    runWith: heapFlag(board),
    heapLimitMb: sampled.heapLimitMb,
    recorded: history ?? null,
  };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const where = flags.data ?? `(none; statfs of ${dir})`;
  const lines = [`board ${board.board} (${board.description}), data ${where}, sampled ${sampleMs} ms`];
  lines.push(...valueLines(values, details));
  const t = thresholds;
  lines.push(
    `thresholds: yes>${t.yesAbove} storage_full<${t.storageFullBelow} memory_low<${t.memoryLowBelow} ` +
      `rate_limited<${t.rateLimitedBelow} cpu_busy<${t.cpuBusyBelow}`,
  );
  lines.push(`a node here would answer: ${report.wouldAnswer}`);
  if (history !== undefined) lines.push(...historyLines(history));
  lines.push(`run nodes on this board with: node ${heapFlag(board)} (heap budget now: ${report.heapLimitMb} MiB)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Starts the node's limiters on this machine, samples them for `sampleMs`, and stops them. */
async function sampleLimiters(board: Board, data: string | undefined, dir: string, sampleMs: number) {
  const usage = data === undefined ? undefined : createDirUsage({ dir, clock: systemClock });
  const l = createNodeLimiters({ board, dir, usedBytes: usage?.bytes ?? (() => 0), clock: systemClock });
  await usage?.scan();
  await l.start();
  // A ref'd timer on purpose: the clock's timers are unref'd and would let the process exit.
  await sleep(sampleMs);
  l.limiters.cpu.sample();
  l.limiters.memory.sample();
  await l.limiters.economic.sampleDisk();
  const values = l.gate.values();
  const details = Object.fromEntries(LIMITER_NAMES.map((n) => [n, l.limiters[n].detail()]));
  await l.stop();
  const heapLimitMb = Math.round((l.limiters.memory.detail().heapLimitBytes as number) / 1048576);
  return { values, details, thresholds: l.gate.thresholds, heapLimitMb };
}

function valueLines(values: LimiterValues, details: Record<string, Record<string, number | string | null>>): string[] {
  return LIMITER_NAMES.map((n) => {
    const d = Object.entries(details[n] ?? {})
      .map(([k, v]) => `${k}=${v === null ? '-' : v}`)
      .join(' ');
    return `  ${n.padEnd(11)} ${values[n].toFixed(4)}  ${d}`;
  });
}

function historyLines(h: LimiterHistory): string[] {
  const t = h.tally;
  const no = Object.entries(t.no)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const lines = [
    `recorded in the series: ${t.decisions} decisions, yes ${t.yes}${no === '' ? '' : `, no: ${no}`}` +
      (t.config === null ? '' : ` (board ${t.config.board} since seq ${t.config.seq})`),
  ];
  if (t.recentNo.length > 0) {
    lines.push(`  recent NOs (seq:reason): ${t.recentNo.map((r) => `${r.seq}:${r.reason}`).join(' ')}`);
  }
  if (h.replay !== undefined) {
    const r = h.replay;
    lines.push(
      `  replay: ${r.matched}/${r.decisions} decisions reproduced by the policy` +
        (r.mismatches.length > 0 ? `, ${r.mismatches.length} mismatches (first at seq ${r.mismatches[0]!.seq})` : ''),
    );
  }
  return lines;
}

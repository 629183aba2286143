/**
 * `dameso status [--data D | --metrics URL] [--json]`: what a node is doing. `--data` reads its
 * series folder read-only (no lock: safe beside the running node) and says whether a live process
 * holds the folder; `--metrics` asks the running node (`GET /status` on its `--metrics-port`).
 */
import type { Command } from 'commander';
import { DamesoError } from '../errors.js';
import { EXAMPLE_METRICS_PORT } from '../metrics/http.js';
import { SERIES_SUBDIR } from '../node/constants.js';
import { type NodeStatus, statusFromData, statusLines } from '../status/index.js';
import { requireSeriesIn } from './fs-errors.js';

interface StatusFlags {
  data?: string;
  metrics?: string;
  json?: boolean;
}

/** How long a `--metrics` request may take before the node counts as unreachable, ms. */
export const STATUS_FETCH_TIMEOUT_MS = 5_000;

const usage = (msg: string) => new DamesoError('DAMESO_USAGE', msg);
const unreachable = (msg: string) => new DamesoError('DAMESO_METRICS_UNREACHABLE', msg);

/** `http://h:p`, `http://h:p/` or `http://h:p/metrics` → `http://h:p/status`. */
export function statusUrl(given: string): URL {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw usage(
      `--metrics must be the node's metrics URL (e.g. http://127.0.0.1:${EXAMPLE_METRICS_PORT}), got "${given}"`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usage(`--metrics must be an http:// URL, got "${given}"`);
  }
  url.pathname = `${url.pathname.replace(/\/(metrics|status|healthz)?\/?$/, '')}/status`;
  return url;
}

async function fetchStatus(given: string): Promise<NodeStatus> {
  const url = statusUrl(given);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(STATUS_FETCH_TIMEOUT_MS) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw unreachable(`cannot reach ${url.href} (${cause}); is the node running with --metrics-port?`);
  }
  if (res.status !== 200) {
    throw unreachable(`${url.href} answered HTTP ${res.status}: not a dameso node's metrics port?`);
  }
  try {
    return (await res.json()) as NodeStatus;
  } catch {
    throw unreachable(`${url.href} did not answer JSON: not a dameso node's metrics port?`);
  }
}

async function statusCmd(flags: StatusFlags): Promise<void> {
  if ((flags.data === undefined) === (flags.metrics === undefined)) {
    throw usage('give one of --data DIR (a node data folder) or --metrics URL (a running node)');
  }
  let status: NodeStatus;
  if (flags.metrics !== undefined) status = await fetchStatus(flags.metrics);
  else {
    const data = flags.data ?? '';
    await requireSeriesIn(data, '--data');
    status = await statusFromData(data);
  }
  const text = flags.json ? JSON.stringify(status) : statusLines(status).join('\n');
  process.stdout.write(`${text}\n`);
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'what a node is doing: id, roles, session, broker and connection state, roster, last survey, backup lag, ' +
        'limiter values, series size and ring headroom, board — from its data folder (running or not) or live ' +
        'from its metrics port',
    )
    .option(
      '--data <dir>',
      `a node's data folder (its series is <dir>/${SERIES_SUBDIR}); read-only, safe beside the node`,
    )
    .option('--metrics <url>', "a running node's metrics URL (dameso node --metrics-port P): reads GET /status")
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Examples:
  dameso status --data /var/lib/dameso
  dameso status --metrics http://127.0.0.1:${EXAMPLE_METRICS_PORT}
  dameso status --data ~/.dameso/pi-7 --json | jq .backup.lagEntries

With --data, "process" says whether a live process holds the series lock (running (pid N)); the
connection state is then the last one the node recorded. With --metrics every value is live.

Exit codes: 0 printed; 64 bad flags; 65 --data is not a node data folder (or its series is
damaged); 69 the --metrics URL cannot be reached or is not a node's metrics port.`,
    )
    .action(statusCmd);
}

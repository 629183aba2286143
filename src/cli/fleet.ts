/**
 * `dameso fleet`: a fleet test harness. N real `dameso node` processes (own data folders) against a
 * broker, a requester declaring intents at a steady rate, optional SIGKILL + restart of a random node,
 * then a clean stop and an integrity check of every series. Exit 0 only when the check passes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import mqtt from 'mqtt';
import { ConfigError, DamesoError } from '../errors.js';
import { type FleetProgress, type FleetSummary, runFleet } from '../fleet/run.js';
import { BrokerUnreachableError } from '../transport/index.js';
import { parseBrokerUrl } from './broker-url.js';
import { EXIT } from './exit.js';
import { checkRoles, splitList } from './node.js';

interface FleetFlags {
  nodes: string;
  roles: string;
  broker: string;
  data?: string;
  duration: string;
  rate: string;
  killEvery: string;
  json?: boolean;
}

function num(flag: string, v: string, min: number, max = Number.POSITIVE_INFINITY): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new DamesoError('DAMESO_USAGE', `${flag} must be a number in [${min}, ${max}], got "${v}"`);
  }
  return n;
}

function progressLine(p: FleetProgress): string {
  return (
    `t=${p.seconds}s live=${p.live} restarts=${p.restarts} | declared=${p.declared} closed=${p.closed} open=${p.open} | ` +
    `yes=${p.yes} no=${p.no} silence=${p.silence} offline=${p.offline} | reply p50=${p.replyP50Ms}ms p99=${p.replyP99Ms}ms`
  );
}

/** ` (rate_limited 12, cpu_busy 3)`, or nothing when there was no NO. */
function noDetail(by: Record<string, number>): string {
  const parts = Object.entries(by).map(([k, v]) => `${k} ${v}`);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

/** How long `fleet` waits for a given broker to accept a first connection, ms. */
const FLEET_BROKER_CHECK_MS = 3_000;

/**
 * A broker given by URL is asked once before any node is spawned: its nodes connect without a
 * password or a CA, so a broker that is down, wants passwords or speaks TLS is said now, in one
 * line, instead of as a failed integrity check.
 */
async function checkFleetBroker(url: string): Promise<void> {
  if (/^(mqtts|wss):/i.test(url)) {
    throw new DamesoError(
      'DAMESO_USAGE',
      `--broker ${url}: fleet starts its nodes without --ca or --password-file; give an open mqtt:// broker or "embedded"`,
    );
  }
  const client = mqtt.connect(url, {
    protocolVersion: 4,
    clientId: `fleet-check-${process.pid}`,
    reconnectPeriod: 0,
    connectTimeout: FLEET_BROKER_CHECK_MS,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
      client.once('close', () => reject(new Error('closed')));
    });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 4 || code === 5) {
      throw new ConfigError(
        'broker',
        `the broker at ${url} requires passwords (CONNACK ${code}); fleet starts its nodes without one: give an open broker or "embedded"`,
      );
    }
    throw new BrokerUnreachableError(url, FLEET_BROKER_CHECK_MS, err);
  } finally {
    client.end(true);
  }
}

function summaryText(s: FleetSummary): string {
  const lines = [
    `fleet: ${s.nodes} nodes (roles ${s.roles.join(',')}) on ${s.broker}, ${s.seconds}s, children ${s.children}`,
    `intents declared=${s.declared} closed=${s.closed} | per peer: expected=${s.expected} yes=${s.yes} no=${s.no}${noDetail(s.noBy)} ` +
      `silence=${s.silence} offline=${s.offline} unexpected=${s.unexpected}`,
    `reply latency p50=${s.replyP50Ms}ms p99=${s.replyP99Ms}ms | start of ${s.nodes} nodes ${s.startMs}ms | ` +
      `node RSS avg ${s.nodeRssMB.avg} MB max ${s.nodeRssMB.max} MB | harness CPU ${s.harnessCpuS}s`,
    `restarts=${s.restarts.length}${s.restarts.map((r) => ` ${r.id}:session ${r.sessionBefore}->${r.sessionAfter} (${r.downMs}ms)`).join('')}`,
    `integrity: ${s.series.filter((x) => x.sound).length}/${s.nodes} node series sound; requester outcomes ` +
      (s.requesterOutcomes
        ? `${s.requesterOutcomes.outcomes} for ${s.closed} closed (missing ${s.requesterOutcomes.missing}, ` +
          `duplicated ${s.requesterOutcomes.duplicated}, unknown ${s.requesterOutcomes.unknown})`
        : 'not checked'),
    s.ok ? 'integrity ok' : `FAILED:\n  ${s.failures.join('\n  ')}\ndata kept for inspection in ${s.dataDir}`,
  ];
  return `${lines.join('\n')}\n`;
}

export function registerFleet(program: Command): void {
  program
    .command('fleet')
    .description(
      'fleet test: start N `dameso node` processes (each its own data folder) against a broker, declare ' +
        'intents from a requester, optionally SIGKILL and restart a random node every few seconds, then ' +
        'stop everything and check every series (exit 0 only when the integrity check passes)',
    )
    .option('--nodes <n>', 'node processes, ids fleet-0..N-1', '3')
    .option('--roles <list>', 'roles of every node, comma-separated (bt, mapper)', 'bt,mapper')
    .option('--broker <url>', 'mqtt://host:port, or "embedded" for a broker in a child process', 'embedded')
    .option('--data <dir>', "parent of the nodes' data folders (default: a temp folder, removed when ok)")
    .option('--duration <s>', 'seconds of declaring', '10')
    .option('--rate <r>', 'intents declared per second by the requester', '10')
    .option('--kill-every <s>', 'SIGKILL a random node every S seconds and restart it (0 = never)', '0')
    .option('--json', 'print only the final summary, as one JSON object (no progress lines)')
    .addHelpText(
      'after',
      `
Examples:
  dameso fleet --nodes 10 --duration 30 --rate 20
  dameso fleet --nodes 5 --roles bt --kill-every 3 --data /tmp/fleet --json
  dameso fleet --nodes 20 --broker mqtt://hub:1883

Integrity: every node's series verifies sound (as \`dameso series verify\`), a restarted node comes
back with a higher session counter, and the requester's series holds one outcome per closed intent.
A progress line goes to stderr once a second (not with --json). Ctrl-C stops everything cleanly.

Exit codes: 0 integrity ok; 1 integrity failed (what failed is printed); 64 bad flags; 78 unknown role.`,
    )
    .action(async (flags: FleetFlags) => {
      const nodes = Math.floor(num('--nodes', flags.nodes, 1, 500));
      const durationS = num('--duration', flags.duration, 0.1);
      const rate = num('--rate', flags.rate, 0.1, 10_000);
      const killEveryS = num('--kill-every', flags.killEvery, 0);
      const roles = splitList(flags.roles);
      if (roles.length === 0) throw new DamesoError('DAMESO_USAGE', '--roles needs at least one role (bt, mapper)');
      checkRoles(roles);
      const broker = parseBrokerUrl(flags.broker, { embedded: true });
      if (broker !== 'embedded') await checkFleetBroker(broker);
      const dataDir = flags.data ?? (await mkdtemp(path.join(os.tmpdir(), 'dameso-fleet-')));
      const abort = new AbortController();
      const onSignal = (): void => abort.abort();
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const summary = await runFleet({
          nodes,
          roles,
          broker,
          dataDir,
          durationS,
          rate,
          killEveryS,
          ...(flags.json ? {} : { onProgress: (p: FleetProgress) => process.stderr.write(`${progressLine(p)}\n`) }),
          signal: abort.signal,
        });
        process.stdout.write(flags.json ? `${JSON.stringify(summary)}\n` : summaryText(summary));
        if (!summary.ok) process.exitCode = EXIT.unsound;
        else if (flags.data === undefined) await rm(dataDir, { recursive: true, force: true });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

/**
 * `dameso fleet`: a fleet test harness. N full nodes (own connections, sessions and data folders)
 * hosted K per worker process (or one `dameso node` process each) against a broker, a requester
 * declaring intents at a steady rate, optional SIGKILL + restart of a random host, then a clean stop
 * and an integrity check of every series. Exit 0 only when the check passes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import mqtt from 'mqtt';
import { ConfigError, DamesoError } from '../errors.js';
import {
  defaultSpecs,
  type FleetSummary,
  fleetCredentials,
  fleetRuntime,
  REQUESTER_ID,
  type runFleet,
  runScenario,
  workerClientId,
  workerGroups,
} from '../fleet/index.js';
import { clientIdForNode } from '../protocol/index.js';
import { BrokerUnreachableError } from '../transport/index.js';
import { parseBrokerUrl } from './broker-url.js';
import { EXIT } from './exit.js';
import { progressView } from './fleet-progress.js';
import {
  addScenarioFlags,
  checkReportPaths,
  SCENARIO_HELP,
  type ScenarioNumbers,
  scenarioFromCommand,
  writeScenarioOutputs,
} from './fleet-scenario.js';
import { checkRoles, splitList } from './node-flags.js';
import { readPasswordFile } from './password.js';
import { PREFIX_FLAG, topicPrefixOption } from './prefix.js';
import { CA_FLAG, readCaFile } from './tls.js';

interface FleetFlags {
  nodes: string;
  roles: string;
  broker: string;
  data?: string;
  duration: string;
  rate: string;
  killEvery: string;
  perProcess?: string;
  procsPerNode?: boolean;
  connectRate: string;
  baselineWorker?: boolean;
  auth?: boolean;
  passwordFile?: string;
  ca?: string;
  prefix: string;
  json?: boolean | string;
  report?: string;
}

/** Most nodes one fleet runs. */
const MAX_FLEET_NODES = 5_000;
/** Most nodes a worker hosts by default (more workers past that, even on few cores). */
const MAX_DEFAULT_PER_PROCESS = 500;
/** Node connects per second by default, the whole fleet. */
const DEFAULT_CONNECT_RATE_PER_S = 100;

/** Nodes per worker by default: the fleet spread over the cores, at most MAX_DEFAULT_PER_PROCESS each. */
export function defaultPerProcess(nodes: number, cores: number): number {
  return Math.max(1, Math.min(MAX_DEFAULT_PER_PROCESS, Math.ceil(nodes / Math.max(1, cores))));
}

function num(flag: string, v: string, min: number, max = Number.POSITIVE_INFINITY): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new DamesoError('DAMESO_USAGE', `${flag} must be a number in [${min}, ${max}], got "${v}"`);
  }
  return n;
}

/** ` (rate_limited 12, cpu_busy 3)`, or nothing when there was no NO. */
function noDetail(by: Record<string, number>): string {
  const parts = Object.entries(by).map(([k, v]) => `${k} ${v}`);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

/** How long `fleet` waits for a given broker to accept a first connection, ms. */
const FLEET_BROKER_CHECK_MS = 3_000;

/**
 * A broker given by URL is asked once before any node starts, with the requester's credentials and
 * CA: a broker that is down, or refuses them, is said now in one line instead of as a failed check.
 */
async function checkFleetBroker(
  url: string,
  auth: { password?: string; ca?: string; usersFile?: string },
): Promise<void> {
  const client = mqtt.connect(url, {
    protocolVersion: 4,
    clientId: clientIdForNode(REQUESTER_ID),
    reconnectPeriod: 0,
    connectTimeout: FLEET_BROKER_CHECK_MS,
    ...(auth.password !== undefined ? { username: REQUESTER_ID, password: auth.password } : {}),
    ...(auth.ca !== undefined ? { ca: auth.ca } : {}),
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
        auth.password === undefined
          ? `the broker at ${url} requires passwords (CONNACK ${code}): run with --auth (per-node credentials) or --password-file`
          : `the broker at ${url} refused ${REQUESTER_ID}'s password (CONNACK ${code}): give it the fleet's users file ${auth.usersFile} (dameso broker --auth-file)`,
      );
    }
    throw new BrokerUnreachableError(url, FLEET_BROKER_CHECK_MS, err);
  } finally {
    client.end(true);
  }
}

/** `1000 nodes in 2 workers of 500` or `20 node processes`. */
function hostingText(s: FleetSummary): string {
  return s.hosting === 'procs'
    ? `${s.nodes} node processes`
    : `${s.nodes} nodes in ${s.hosts} worker process${s.hosts === 1 ? '' : 'es'} of up to ${s.perProcess}`;
}

function restartsText(s: FleetSummary): string {
  const shown = s.restarts.slice(0, MAX_RESTARTS_LISTED);
  const more = s.restarts.length - shown.length;
  return (
    `restarts=${s.restarts.length}${shown.map((r) => ` ${r.id}:session ${r.sessionBefore}->${r.sessionAfter} (${r.downMs}ms)`).join('')}` +
    (more > 0 ? ` … and ${more} more` : '')
  );
}

function summaryText(s: FleetSummary): string {
  const lines = [
    `fleet: ${hostingText(s)} (roles ${s.roles.join(',')}) on ${s.broker}, ${s.seconds}s, children ${s.children}`,
    `intents declared=${s.declared} closed=${s.closed} | per peer: expected=${s.expected} yes=${s.yes} no=${s.no}${noDetail(s.noBy)} ` +
      `silence=${s.silence} offline=${s.offline} unexpected=${s.unexpected}`,
    `reply latency p50=${s.replyP50Ms}ms p99=${s.replyP99Ms}ms | start of ${s.nodes} nodes ${s.startMs}ms at ${s.connectRate}/s | ` +
      `RSS per node avg ${s.nodeRssMB.avg} MB` +
      (s.marginalRssPerNodeMB !== null ? ` (marginal ${s.marginalRssPerNodeMB} MB)` : ` max ${s.nodeRssMB.max} MB`) +
      ` | harness CPU ${s.harnessCpuS}s`,
    restartsText(s),
    `integrity: ${s.series.filter((x) => x.sound).length}/${s.nodes} node series sound; requester outcomes ` +
      (s.requesterOutcomes
        ? `${s.requesterOutcomes.outcomes} for ${s.closed} closed (missing ${s.requesterOutcomes.missing}, ` +
          `duplicated ${s.requesterOutcomes.duplicated}, unknown ${s.requesterOutcomes.unknown})`
        : 'not checked'),
    ...(s.usersFile
      ? [`credentials: ${s.usersFile} (the users file the broker needs: dameso broker --auth-file)`]
      : []),
    s.ok ? 'integrity ok' : `FAILED:\n  ${s.failures.join('\n  ')}\ndata kept for inspection in ${s.dataDir}`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Restarts listed by name in the text summary (all of them are in --json). */
const MAX_RESTARTS_LISTED = 10;

interface FleetPlanFlags {
  nodes: number;
  perProcess: number;
  connectRate: number;
  durationS: number;
  rate: number;
  killEveryS: number;
  roles: string[];
  broker: string;
  topicPrefix?: string;
}

/** The flags checked before anything starts (one coded line, exit 64 or 78, on a bad one). */
function parseFlags(flags: FleetFlags): FleetPlanFlags {
  const nodes = Math.floor(num('--nodes', flags.nodes, 1, MAX_FLEET_NODES));
  if (flags.procsPerNode && flags.perProcess !== undefined) {
    throw new DamesoError('DAMESO_USAGE', '--procs-per-node and --per-process are two ways to host nodes: give one');
  }
  const perProcess = flags.procsPerNode
    ? 0
    : flags.perProcess === undefined
      ? defaultPerProcess(nodes, os.availableParallelism())
      : Math.floor(num('--per-process', flags.perProcess, 1, MAX_FLEET_NODES));
  const roles = splitList(flags.roles);
  if (roles.length === 0) throw new DamesoError('DAMESO_USAGE', '--roles needs at least one role (bt, mapper)');
  checkRoles(roles);
  return {
    nodes,
    perProcess,
    connectRate: num('--connect-rate', flags.connectRate, 1, 100_000),
    durationS: num('--duration', flags.duration, 0.1),
    rate: num('--rate', flags.rate, 0.1, 10_000),
    killEveryS: num('--kill-every', flags.killEvery, 0),
    roles,
    broker: parseBrokerUrl(flags.broker, { embedded: true }),
    ...topicPrefixOption(flags.prefix),
  };
}

/** Every client id the fleet connects with: the nodes, the workers' roster connections, the requester. */
function clientIds(p: FleetPlanFlags, baseline: boolean): string[] {
  const specs = defaultSpecs({ nodes: p.nodes, roles: p.roles, dataDir: '' });
  const workers = p.perProcess > 0 ? workerGroups(specs, p.perProcess, baseline).length : 0;
  return [...specs.map((s) => s.id), ...Array.from({ length: workers }, (_, i) => workerClientId(i)), REQUESTER_ID];
}

export function registerFleet(program: Command): void {
  addScenarioFlags(program.command('fleet'))
    .description(
      'fleet test: start N full nodes (each its own connection, session and data folder), K per worker ' +
        'process or one process each, against a broker; declare intents from a requester, optionally ' +
        'SIGKILL and restart a random host every few seconds, then stop everything and check every ' +
        'series (exit 0 only when the integrity check passes)',
    )
    .option('--nodes <n>', `nodes, ids fleet-0..N-1 (at most ${MAX_FLEET_NODES})`, '3')
    .option('--roles <list>', 'roles of every node, comma-separated (bt, mapper)', 'bt,mapper')
    .option(
      '--broker <url>',
      'mqtt://host:port, mqtts://host:port (see --ca), or "embedded" for a broker in a child process',
      'embedded',
    )
    .option('--data <dir>', "parent of the nodes' data folders (default: a temp folder, removed when ok)")
    .option('--duration <s>', 'seconds of declaring', '10')
    .option('--rate <r>', 'intents declared per second by the requester', '10')
    .option(
      '--kill-every <s>',
      'SIGKILL a random host (a worker, or a node process) every S seconds and restart it (0 = never)',
      '0',
    )
    .option(
      '--per-process <k>',
      `nodes hosted per worker process (default: the nodes spread over the cores, at most ${MAX_DEFAULT_PER_PROCESS} each); e.g. --per-process 250`,
    )
    .option(
      '--procs-per-node',
      'one `dameso node` process per node instead of workers (a kill -9 kills exactly one node)',
    )
    .option(
      '--connect-rate <n>',
      'node connects per second while the fleet comes up, so a large fleet does not stampede the broker; e.g. --connect-rate 50',
      String(DEFAULT_CONNECT_RATE_PER_S),
    )
    .option(
      '--baseline-worker',
      'host the last node alone in one more worker: the summary then gives the marginal RSS per node',
    )
    .option(
      '--auth',
      'the broker authenticates: generate a password per node (and per worker, and the requester) in DATA/credentials/ and the users file for the broker; the embedded broker is started with it',
    )
    .option(
      '--password-file <file>',
      'with --auth: one password (from FILE) for every client instead of generated ones',
    )
    .option(...CA_FLAG)
    .option(...PREFIX_FLAG)
    .option(
      '--json [file]',
      'the summary as one JSON object (ok, checks, latency percentiles, time series): to FILE, or alone on stdout without one (no progress lines)',
    )
    .option(
      '--report <file.html>',
      'one self-contained HTML page: outcomes, latency, faults, consensus map, reputation, memory/CPU, checks',
    )
    .addHelpText(
      'after',
      `
Examples:
  dameso fleet --nodes 10 --duration 30 --rate 20
  dameso fleet --nodes 1000 --duration 60 --rate 2 --connect-rate 100
  dameso fleet --nodes 300 --per-process 150 --kill-every 10 --data /tmp/fleet
  dameso fleet --nodes 5 --procs-per-node --roles bt --kill-every 3 --data /tmp/fleet --json
  dameso fleet --nodes 200 --broker mqtt://hub:1883 --auth --data /srv/fleet
  dameso fleet --nodes 50 --broker mqtts://hub:8883 --ca ca.crt --auth --password-file fleet.secret --data /srv/fleet
  dameso fleet --nodes 1000 --baseline-worker --json
  dameso fleet --nodes 20 --prefix fleet-test   # topics fleet-test/v1/… (its embedded broker takes the prefix too)

Hosting: each node is a full node (its own MQTT connection, client id, session, series folder,
limiters and handlers), K of them per worker process; the nodes of one worker share one roster view
(one presence subscription), as they share one CPU/memory probe. --procs-per-node runs one
\`dameso node\` process per node instead (about 100 MB each: for small, realistic runs).

A broker that authenticates (--auth): the fleet writes DATA/credentials/users (the scrypt lines of
\`dameso broker passwd\`) and one <id>.secret per client; it prints where the users file is. Give it to
your broker (\`dameso broker --auth-file DATA/credentials/users\`) and run again with the same --data.

Integrity: every node's series verifies sound (as \`dameso series verify\`), a restarted node comes
back with a higher session counter, and the requester's series holds one outcome per closed intent.
Progress goes to stderr (not with --json): on a terminal a bar while the nodes come up, then one live
line; elsewhere plain lines. Ctrl-C stops everything cleanly.

Exit codes: 0 integrity ok; 1 integrity failed (what failed is printed); 64 bad flags; 69 broker
unreachable; 78 unknown role, unreadable --password-file or --ca, or the broker refused the password.`,
    )
    .addHelpText('after', SCENARIO_HELP)
    .action(async (flags: FleetFlags, cmd: Command) => {
      fleetRuntime(); // refused in the board bundle before any folder is made
      const p = parseFlags(flags);
      const scenario = await scenarioFromCommand(cmd);
      if (cmd.getOptionValueSource('killEvery') === 'cli' || scenario.killEveryS === undefined)
        scenario.killEveryS = p.killEveryS;
      await checkReportPaths(flags);
      if (!flags.auth && flags.passwordFile !== undefined) {
        throw new DamesoError('DAMESO_USAGE', '--password-file needs --auth (the broker authenticates the fleet)');
      }
      const shared =
        flags.passwordFile === undefined ? undefined : await readPasswordFile('--password-file', flags.passwordFile);
      const caPem = await readCaFile('--ca', flags.ca);
      const dataDir = flags.data ?? (await mkdtemp(path.join(os.tmpdir(), 'dameso-fleet-')));
      try {
        const credentials = flags.auth
          ? await fleetCredentials(
              path.join(dataDir, 'credentials'),
              clientIds(p, flags.baselineWorker === true),
              shared,
            )
          : undefined;
        const ca =
          caPem === undefined || flags.ca === undefined ? undefined : { pem: caPem.toString(), file: flags.ca };
        if (p.broker !== 'embedded') {
          await checkFleetBroker(p.broker, {
            ...(credentials ? { password: credentials.passwords[REQUESTER_ID], usersFile: credentials.usersFile } : {}),
            ...(ca ? { ca: ca.pem } : {}),
          });
        }
        await runAndReport(
          flags,
          p,
          dataDir,
          { ...(credentials ? { credentials } : {}), ...(ca ? { ca } : {}) },
          scenario,
        );
      } catch (err) {
        // A temp folder of a fleet that never ran goes with it (a --data folder is the user's).
        if (flags.data === undefined) await rm(dataDir, { recursive: true, force: true });
        throw err;
      }
    });
}

async function runAndReport(
  flags: FleetFlags,
  p: FleetPlanFlags,
  dataDir: string,
  auth: Pick<Parameters<typeof runFleet>[0], 'credentials' | 'ca'>,
  scenario: ScenarioNumbers,
): Promise<void> {
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const view = flags.json === true ? undefined : progressView(process.stderr);
  try {
    const run = await runScenario(
      {
        ...p,
        dataDir,
        ...auth,
        ...(flags.baselineWorker ? { baselineWorker: true } : {}),
        ...(view ? { onStartProgress: view.starting, onProgress: view.running } : {}),
        signal: abort.signal,
      },
      scenario,
    );
    view?.done();
    process.stdout.write(await writeScenarioOutputs(run, flags, summaryText(run.summary)));
    if (!run.ok) process.exitCode = EXIT.unsound;
    else if (flags.data === undefined) await rm(dataDir, { recursive: true, force: true });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

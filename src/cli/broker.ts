/**
 * `dameso broker [--host H] [--port P] [--ws-port P] [--max-packet BYTES] [--redis URL [--id ID]]`: a
 * hosted Aedes for a site, alone or clustered with other brokers over Redis (broker/cluster.ts).
 * Prints where it listens, then its counts every --stats-ms; stops cleanly on SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import {
  type BrokerLimits,
  type BrokerStats,
  createBrokerHost,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_DROP_COOLDOWN_MS,
  DEFAULT_FANOUT_MAX_AGE_MS,
  DEFAULT_HEARTBEAT_S,
  DEFAULT_HOSTED_HOST,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_IP,
  DEFAULT_MAX_DROPS_PER_WINDOW,
  DEFAULT_MAX_IDLE_S,
  DEFAULT_MAX_PACKET_BYTES,
  DEFAULT_MAX_PENDING_BYTES,
  DEFAULT_MAX_RETAINED_HAVES,
  DEFAULT_PACKET_TIMEOUT_MS,
  DEFAULT_PORT,
  DEFAULT_STATS_INTERVAL_MS,
  redisCluster,
} from '../../broker/index.js';
import { systemClock } from '../clock.js';
import { DamesoError } from '../errors.js';
import {
  METRICS_HOST_FLAG,
  METRICS_PORT_FLAG,
  type MetricsFlags,
  metricsHelp,
  parseMetricsFlags,
  serveBrokerMetrics,
} from '../metrics/cli.js';
import { AUTH_FILE_HELP, loadBrokerAuth, registerBrokerPasswd, reloadOnSighup } from './broker-auth.js';
import { applyBrokerConfig, BROKER_CONFIG_HELP } from './broker-config.js';
import { DASHBOARD_HELP, dashboardHttp, HTTP_PORT_FLAG, parseHttpPort } from './dashboard-flags.js';
import { LOG_FORMAT_FLAG, LOG_LEVEL_FLAG, loggerFromFlags } from './log-flags.js';
import { PREFIX_FLAG, parsePrefix } from './prefix.js';
import { checkTlsFlags, readTlsPair, reloadTlsOnSighup, TLS_HELP, type TlsFlags } from './tls.js';

export interface BrokerFlags extends MetricsFlags, TlsFlags {
  host: string;
  tcpHost?: string;
  port: string;
  wsPort?: string;
  httpPort?: string;
  maxPacket: string;
  maxHaveRecords: string;
  maxHavePerNode?: string;
  allowSys?: boolean;
  connectTimeoutMs: string;
  maxConnections?: string;
  maxConnectionsPerIp: string;
  maxIdleS: string;
  packetTimeoutMs: string;
  maxPendingMib: string;
  maxDropsPer10s: string;
  dropCooldownS: string;
  prefix: string;
  statsMs: string;
  check: boolean;
  json?: boolean;
  logLevel?: string;
  logFormat?: string;
  authFile?: string;
  redis?: string;
  id?: string;
  heartbeatS: string;
  fanoutMaxAgeMs: string;
  config?: string;
}

function int(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new DamesoError('DAMESO_USAGE', `${flag} must be an integer in [${min}, ${max}], got "${value}"`);
  }
  return n;
}

/** The whole-number flags that are not ports, with their ranges (shared with --config). */
const COUNTS = {
  maxPacket: ['--max-packet', 64, 268_435_455],
  maxHaveRecords: ['--max-have-records', 0, 100_000_000],
  maxHavePerNode: ['--max-have-per-node', 1, 100_000_000],
  statsMs: ['--stats-ms', 0, 86_400_000],
  connectTimeoutMs: ['--connect-timeout-ms', 100, 600_000],
  maxConnections: ['--max-connections', 1, 10_000_000],
  maxConnectionsPerIp: ['--max-connections-per-ip', 1, 10_000_000],
  maxIdleS: ['--max-idle-s', 1, 86_400],
  packetTimeoutMs: ['--packet-timeout-ms', 100, 3_600_000],
  maxPendingMib: ['--max-pending-mib', 1, 65_536],
  maxDropsPer10s: ['--max-drops-per-10s', 0, 10_000_000],
  dropCooldownS: ['--drop-cooldown-s', 0, 86_400],
  heartbeatS: ['--heartbeat-s', 1, 3_600],
  fanoutMaxAgeMs: ['--fanout-max-age-ms', 100, 3_600_000],
} as const;

/** The flags' connection limits and timeouts as broker host options. */
function connectionOptions(flags: BrokerFlags) {
  return {
    connectTimeoutMs: parseBrokerCount('connectTimeoutMs', flags.connectTimeoutMs),
    // Absent: the host fits its default under the descriptor limit.
    ...(flags.maxConnections !== undefined
      ? { maxConnections: parseBrokerCount('maxConnections', flags.maxConnections) }
      : {}),
    maxConnectionsPerIp: parseBrokerCount('maxConnectionsPerIp', flags.maxConnectionsPerIp),
    maxIdleS: parseBrokerCount('maxIdleS', flags.maxIdleS),
    packetTimeoutMs: parseBrokerCount('packetTimeoutMs', flags.packetTimeoutMs),
    maxPendingBytes: parseBrokerCount('maxPendingMib', flags.maxPendingMib) * 1024 * 1024,
    maxDropsPerWindow: parseBrokerCount('maxDropsPer10s', flags.maxDropsPer10s),
    dropCoolDownMs: parseBrokerCount('dropCooldownS', flags.dropCooldownS) * 1000,
  };
}

export const CONNECTION_LIMITS_HELP = `
Connection limits (a socket flood or a half-sent packet cannot starve the broker):
  dameso broker --connect-timeout-ms 5000      # no whole CONNECT 5 s after accept: closed
  dameso broker --max-connections 4000         # raise LimitNOFILE= (ulimit -Hn) to match
  dameso broker --max-connections-per-ip 200   # a site NATs 150 boards behind one address
  dameso broker --max-idle-s 120               # keepalive 0 or over 120 s is held to 120 s
  dameso broker --packet-timeout-ms 60000      # slow links sending 1 MiB chunks
  dameso broker --max-pending-mib 32           # a Pi Zero: half-sent packets hold at most 32 MiB
  dameso broker --max-drops-per-10s 50         # close a client after 51 dropped publishes in 10 s
  dameso broker --drop-cooldown-s 60           # then refuse its address's new connections for 60 s
Over a limit a socket is closed at accept, counted (refused= in the counts,
dameso_broker_connections_refused_total{reason}) and logged once per address. A client closed for
its drops is counted in disconnected_for_drops= and dameso_broker_disconnected_for_drops_total, its
address refused meanwhile as cooling_down. Timeouts are counted
in timed_out= and dameso_broker_connections_timed_out_total{phase}. At start the broker logs its
descriptor limit; --max-connections defaults to ${DEFAULT_MAX_CONNECTIONS}, lowered to that limit minus a reserve.
`;

/** The keys of the whole-number flags, in table order (the config file checks the same ones). */
export const BROKER_COUNT_KEYS = Object.keys(COUNTS) as (keyof typeof COUNTS)[];

export function parseBrokerCount(key: keyof typeof COUNTS, value: string): number {
  const [flag, min, max] = COUNTS[key];
  return int(flag, value, min, max);
}

export function checkBrokerId(id: string | undefined): void {
  if (id !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
    throw new DamesoError('DAMESO_USAGE', `--id must be 1-64 of [A-Za-z0-9._-], got "${id}"`);
  }
}

export function registerBroker(program: Command): void {
  const broker = program
    .command('broker')
    .description(
      'run a hosted MQTT broker (Aedes) for a site: nodes connect with --broker mqtt://HOST:PORT. It ' +
        'drops malformed, spoofed and stale envelopes on dameso/v1/# before they reach the fleet and ' +
        'counts them per reason. Ctrl-C (SIGINT) or SIGTERM stops it cleanly.',
    )
    .option('--host <host>', 'interface to listen on', DEFAULT_HOSTED_HOST)
    .option('--port <port>', 'MQTT/TCP port (0 = any free port)', String(DEFAULT_PORT))
    .option('--ws-port <port>', 'also serve MQTT over WebSocket on this port (0 = any free port)')
    .option(...HTTP_PORT_FLAG)
    .option(
      '--tls-port <port>',
      'also serve MQTT over TLS (mqtts://) on this port (0 = any free port); needs --tls-cert and --tls-key',
    )
    .option(
      '--wss-port <port>',
      'also serve MQTT over WebSocket over TLS (wss://) on this port (0 = any free port), with the certificate of --tls-port',
    )
    .option('--tls-cert <file>', 'PEM certificate (chain) of the TLS listener; SIGHUP reloads it')
    .option('--tls-key <file>', 'PEM private key of --tls-cert; SIGHUP reloads it')
    .option(
      '--tcp-host <host>',
      'interface of the plain MQTT/TCP listener (default --host), e.g. 127.0.0.1 with --tls-port',
    )
    .option(
      '--max-packet <bytes>',
      'largest MQTT packet accepted; larger ones close the connection',
      String(DEFAULT_MAX_PACKET_BYTES),
    )
    .option(
      '--max-have-records <n>',
      'most retained `have` records kept (~1 KB of memory each); beyond it new ones reach live ' +
        'subscribers but are not stored, and fetches of those chunks ask every bt node',
      String(DEFAULT_MAX_RETAINED_HAVES),
    )
    .option(
      '--max-have-per-node <n>',
      'most retained `have` records kept for one node (default a sixteenth of --max-have-records): past it ' +
        "that node's new ones reach live subscribers but are not stored, and other nodes' still are",
    )
    .option(
      '--allow-sys',
      "let any client subscribe to $SYS/# (the broker's counters and client ids) without --auth-file; " +
        'otherwise such subscriptions are refused and counted (sys_denied)',
    )
    .option(
      '--connect-timeout-ms <ms>',
      'time a new connection has to send its whole CONNECT packet; then it is closed',
      String(DEFAULT_CONNECT_TIMEOUT_MS),
    )
    .option(
      '--max-connections <n>',
      `most open connections, every listener together; more are closed at accept (default ${DEFAULT_MAX_CONNECTIONS}, ` +
        'or the descriptor limit minus a reserve when lower)',
    )
    .option(
      '--max-connections-per-ip <n>',
      'most open connections from one address (IPv6: one /64); boards NATed behind one address share it',
      String(DEFAULT_MAX_CONNECTIONS_PER_IP),
    )
    .option(
      '--max-idle-s <s>',
      'a client asking keepalive 0 or more than S is held to keepalive S: closed after 1.5 x S silent (Will published)',
      String(DEFAULT_MAX_IDLE_S),
    )
    .option(
      '--packet-timeout-ms <ms>',
      'time one MQTT packet has from its first byte to its last; a packet left half-sent closes the connection',
      String(DEFAULT_PACKET_TIMEOUT_MS),
    )
    .option(
      '--max-pending-mib <mib>',
      'memory all incomplete packets may hold together; the connection whose bytes would cross it is closed',
      String(DEFAULT_MAX_PENDING_BYTES / (1024 * 1024)),
    )
    .option(
      '--max-drops-per-10s <n>',
      'a client with more publishes dropped by the envelope check within 10 s is disconnected (0 = never)',
      String(DEFAULT_MAX_DROPS_PER_WINDOW),
    )
    .option(
      '--drop-cooldown-s <s>',
      'after such a disconnect, new connections from its address (IPv6: its /64) are refused for S seconds (0 = none)',
      String(DEFAULT_DROP_COOLDOWN_MS / 1000),
    )
    .option(...PREFIX_FLAG)
    .option('--stats-ms <ms>', 'print counts every MS (0 = only at exit)', String(DEFAULT_STATS_INTERVAL_MS))
    .option('--no-check', 'do not check envelopes (a plain MQTT broker; refused with --auth-file, exit 78)')
    .option('--json', 'print JSON lines instead of text')
    .option(...LOG_LEVEL_FLAG)
    .option(...LOG_FORMAT_FLAG)
    .option('--auth-file <file>', AUTH_FILE_HELP)
    .option(
      '--redis <url>',
      'cluster with every broker given the same Redis (redis://HOST:PORT/DB): retained records (presence, ' +
        'have) are stored there and each publish is fanned out to the clients of every broker; Redis must ' +
        'answer at start (else exit 69)',
    )
    .option('--id <id>', "this broker's id in the cluster ([A-Za-z0-9._-], default a random UUID per start)")
    .option(
      '--heartbeat-s <s>',
      'with --redis: say "alive" to the other brokers every S seconds; a broker silent for 3 heartbeats is taken ' +
        "for dead and its nodes' Wills are published (its nodes read offline within 4 heartbeats)",
      String(DEFAULT_HEARTBEAT_S),
    )
    .option(
      '--fanout-max-age-ms <ms>',
      'with --redis: a live message not delivered within MS (held up by a Redis outage) is dropped, not delivered late',
      String(DEFAULT_FANOUT_MAX_AGE_MS),
    )
    .option('--config <file>', 'JSON file with these settings (keys: the long flags in camelCase); flags override it')
    .addHelpText(
      'after',
      `
Examples:
  dameso broker --port 1883
  dameso broker --max-have-records 20000 --max-have-per-node 2000   # a Zero: 20 000 records, 2 000 a node
  dameso broker --allow-sys       # a monitoring tool reads $SYS/# (open broker only; with auth, never)
  dameso broker --port 1883 --redis redis://10.0.0.5:6379/0 --id site-a   # on one machine
  dameso broker --port 1883 --redis redis://10.0.0.5:6379/0 --id site-b   # on another: one fleet
  dameso broker --redis redis://10.0.0.5:6379/0 --heartbeat-s 2        # slower links: dead peers found in 8 s
  dameso broker --redis redis://10.0.0.5:6379/0 --fanout-max-age-ms 10000   # keep live messages 10 s
  dameso node --id pi-7 --broker mqtt://site-a:1883,mqtt://site-b:1883      # fails over to site-b
Nodes may connect to any broker of a cluster; a broker stopping loses only its own connections, and
its nodes reconnect to the next broker of their --broker list.
Redis pub/sub channels are shared by every database number: give each fleet its own Redis or its
own --prefix (the broker checks one prefix; its nodes and commands take the same one):
  dameso broker --redis redis://10.0.0.5:6379/0 --id fleet1-a --prefix fleet1
  dameso node --id pi-7 --broker mqtt://fleet1-a:1883 --prefix fleet1

Authentication (every node gets its own password; see \`dameso broker passwd --help\`):
  (umask 077; openssl rand -base64 24 > pi-7.secret)
  dameso broker passwd --file /etc/dameso/broker.users --node pi-7 --password-file pi-7.secret
  dameso broker --auth-file /etc/dameso/broker.users        # kill -HUP <pid> after editing the file
  dameso node --id pi-7 --broker mqtt://hub:1883 --password-file pi-7.secret

Exit codes: 0 stopped on SIGINT/SIGTERM; 64 bad flags; 69 cannot listen on the port or reach
--redis; 78 a malformed --redis URL, a missing or malformed --auth-file, --tls-cert or --tls-key, or
--auth-file with --no-check (the ACL relies on the envelope check for the sender of intents and replies).`,
    )
    .addHelpText('after', CONNECTION_LIMITS_HELP)
    .addHelpText('after', TLS_HELP)
    .addHelpText('after', DASHBOARD_HELP)
    .option(...METRICS_PORT_FLAG)
    .option(...METRICS_HOST_FLAG)
    .addHelpText('after', metricsHelp('broker --port 1883'))
    .addHelpText('after', BROKER_CONFIG_HELP)
    .action(async (_flags: BrokerFlags, cmd: Command) => {
      const flags = await applyBrokerConfig(cmd);
      const metricsListen = parseMetricsFlags(flags);
      checkBrokerId(flags.id);
      const log = loggerFromFlags(flags, { name: 'dameso-broker' });
      const cluster = flags.redis === undefined ? undefined : redisCluster(flags.redis, { log });
      const auth = flags.authFile === undefined ? undefined : await loadBrokerAuth(flags.authFile, log);
      const tlsPort = checkTlsFlags(flags) ? int('--tls-port', flags.tlsPort ?? '', 0, 65_535) : undefined;
      const tlsFiles = tlsPort === undefined ? undefined : { cert: flags.tlsCert ?? '', key: flags.tlsKey ?? '' };
      const wssPort = flags.wssPort === undefined ? undefined : int('--wss-port', flags.wssPort, 0, 65_535);
      const tls = tlsFiles && {
        port: tlsPort ?? 0,
        wsPort: wssPort,
        ...(await readTlsPair(tlsFiles.cert, tlsFiles.key)),
      };
      const topicPrefix = parsePrefix(flags.prefix);
      const http = await dashboardHttp(parseHttpPort(flags.httpPort), {
        topicPrefix,
        auth: auth !== undefined,
      });
      const host = createBrokerHost({
        host: flags.host,
        ...(flags.tcpHost !== undefined ? { tcpHost: flags.tcpHost } : {}),
        port: int('--port', flags.port, 0, 65_535),
        wsPort: flags.wsPort === undefined ? undefined : int('--ws-port', flags.wsPort, 0, 65_535),
        maxPacketBytes: parseBrokerCount('maxPacket', flags.maxPacket),
        maxRetainedHaves: parseBrokerCount('maxHaveRecords', flags.maxHaveRecords),
        ...(flags.maxHavePerNode !== undefined
          ? { maxHavesPerNode: parseBrokerCount('maxHavePerNode', flags.maxHavePerNode) }
          : {}),
        allowSys: flags.allowSys === true,
        ...connectionOptions(flags),
        topicPrefix,
        checkEnvelopes: flags.check,
        cluster,
        id: flags.id,
        heartbeatMs: parseBrokerCount('heartbeatS', flags.heartbeatS) * 1000,
        fanoutMaxAgeMs: parseBrokerCount('fanoutMaxAgeMs', flags.fanoutMaxAgeMs),
        auth,
        ...(tls !== undefined ? { tls } : {}),
        ...(http !== undefined ? { http } : {}),
        log,
      });
      const statsMs = parseBrokerCount('statsMs', flags.statsMs);
      const out = (text: string, json: object) =>
        process.stdout.write(flags.json ? `${JSON.stringify(json)}\n` : `${text}\n`);

      // Signals are taken from before the listening line: a supervisor that stops the broker as soon
      // as it reads that line must get a clean stop, not Node's default death by signal.
      let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
      const signalled = new Promise<NodeJS.Signals>((resolve) => {
        onSignal = resolve;
      });
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const forgetSignals = () => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      };
      const address = await host.start().catch((err: unknown) => {
        forgetSignals();
        throw err;
      });
      out(
        `dameso broker listening on mqtt://${address.tcpHost}:${address.port}` +
          (address.wsPort === undefined ? '' : ` and ws://${address.host}:${address.wsPort}`) +
          (address.tlsPort === undefined ? '' : ` and mqtts://${address.host}:${address.tlsPort}`) +
          (address.wssPort === undefined ? '' : ` and wss://${address.host}:${address.wssPort}`) +
          (address.httpUrl === undefined ? '' : `, dashboard on ${address.httpUrl}`) +
          ` (root ${flags.prefix}/v1, max packet ${flags.maxPacket} bytes${describeLimits(host.limits())}` +
          (cluster === undefined ? ')' : `, clustered over ${cluster.describe})`) +
          (auth === undefined ? '' : `; ${auth.size()} nodes may connect (${flags.authFile}; SIGHUP reloads it)`),
        {
          event: 'listening',
          ...address,
          redis: cluster?.describe,
          auth: auth && { file: flags.authFile, nodes: auth.size() },
          limits: host.limits(),
        },
      );
      // Labelled by the cluster id when given, else by where it listens.
      const metricsName = flags.id ?? `${address.host}:${address.port}`;
      const metrics =
        metricsListen &&
        (await serveBrokerMetrics(metricsName, host, metricsListen).catch(async (err: unknown) => {
          forgetSignals();
          await host.stop();
          throw err;
        }));
      if (metrics) out(`dameso broker metrics on ${metrics.url}`, { event: 'metrics', url: metrics.url });
      const stopReloading = auth && reloadOnSighup(auth, host, log, out);
      const stopReloadingTls = tlsFiles && reloadTlsOnSighup(host, tlsFiles, log, out);
      const timer =
        statsMs > 0
          ? systemClock.setInterval(() => out(formatStats(host.stats()), { event: 'stats', ...host.stats() }), statsMs)
          : undefined;

      const signal = await signalled;
      forgetSignals();
      stopReloading?.();
      stopReloadingTls?.();
      systemClock.clearInterval(timer);
      out(`dameso broker: ${signal}, stopping`, { event: 'stopping', signal });
      await Promise.resolve(metrics?.close())
        .then(() => host.stop())
        .catch((err: unknown) => log.error({ err }, 'broker: stopping failed'));
      out(formatStats(host.stats()), { event: 'stopped', ...host.stats() });
    });
  registerBrokerPasswd(broker);
}

function describeLimits(l: BrokerLimits | undefined): string {
  if (l === undefined) return '';
  const fd = l.fdLimit === undefined ? '' : `, descriptor limit ${l.fdLimit.soft}`;
  return `, max ${l.maxConnections} connections, ${l.maxConnectionsPerIp} per address${fd}`;
}

function formatStats(s: BrokerStats): string {
  const drops = Object.entries(s.dropped)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason}=${n}`)
    .join(' ');
  const refusals = Object.entries(s.refused)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason}=${n}`)
    .join(' ');
  return (
    `connections=${s.connections} (total ${s.connectionsTotal}) checked=${s.checked} passed=${s.passed} ` +
    `dropped=${s.droppedTotal}${drops ? ` [${drops}]` : ''} wills_refused=${s.willsRefused} ` +
    `too_large_packets=${s.packetsTooLarge} nodes=${s.trackedNodes} auth_refused=${s.authRefusedTotal} ` +
    `acl_denied=${s.aclDenied.publish + s.aclDenied.subscribe} narrowed=${s.narrowed} ` +
    `haves=${s.retainedHaves} haves_not_retained=${s.havesNotRetained} haves_over_share=${s.havesOverShare} ` +
    `sys_denied=${s.sysDenied} ` +
    `refused=${s.refusedTotal}${refusals ? ` [${refusals}]` : ''} ` +
    `disconnected_for_drops=${s.disconnectedForDrops} ` +
    `timed_out=[connect=${s.timedOut.connect} packet=${s.timedOut.packet} idle=${s.timedOut.idle}] ` +
    `pending_over_budget=${s.pendingOverBudget} ` +
    `stale_deliveries=${s.staleDeliveries} redis_outages=${s.redisOutages} redis_stalls=${s.redisStalls} peers_dead=${s.peersDead} ` +
    `dead_peer_wills=${s.deadPeerWills} clients_reannounced=${s.clientsReannounced} ` +
    `tls_handshake_failures=${s.tlsHandshakeFailures}`
  );
}

/**
 * `dameso node`: run one node until SIGINT/SIGTERM (a clean stop publishes offline presence,
 * flushes and closes the series). Serves the chunk (`bt`) and observation (`mapper`) kinds for the
 * roles it is given, gated by its limiters. With sensor flags (`--gps`, `--sensor`, `--position`,
 * `--simulate`) it also observes: the drivers feed the observe service, which writes `observation`
 * entries and answers `want_observations` from them (such a node serves the `mapper` role).
 */
import os from 'node:os';
import path from 'node:path';
import type { SerialPortStream } from '@serialport/stream';
import type { Command } from 'commander';
import {
  closeSerialPort,
  createLineSensor,
  createNmeaGps,
  DEFAULT_GPS_BAUD_RATE,
  DEFAULT_LINE_SENSOR_BAUD_RATE,
  openSerialPort,
  type SensorDriver,
} from '../../devices/sensors/index.js';
import { DEFAULT_REPLICATE } from '../chunks/index.js';
import { DamesoError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  METRICS_HOST_FLAG,
  METRICS_PORT_FLAG,
  metricsHelp,
  NODE_ROUTES_HELP,
  parseMetricsFlags,
  serveNodeMetrics,
} from '../metrics/cli.js';
import { checkMetricsListen } from '../metrics/index.js';
import { assembleNode, createNode, DEFAULT_BROKER_URL } from '../node/index.js';
import { MAPPER_ROLE } from '../observe/index.js';
import { parseBrokerUrl } from './broker-url.js';
import { nodeIdFlag } from './chunks-net.js';
import { dashboardHttp, HTTP_PORT_FLAG, parseHttpPort } from './dashboard-flags.js';
import { LOG_FORMAT_FLAG, LOG_LEVEL_FLAG, loggerFromFlags } from './log-flags.js';
import { addBehaviourFlags, answerBehaviourOf, BEHAVIOUR_HELP, behaviourLine } from './node-behaviour.js';
import { applyNodeConfig, CONFIG_HELP } from './node-config.js';
import {
  checkRoles,
  type NodeFlags,
  parsePortSpec,
  parsePosition,
  parseReplicate,
  parseSimulate,
  type SimulateSpec,
  splitList,
  usage,
} from './node-flags.js';
import {
  beginSupervision,
  dataFolderExists,
  deviceFlag,
  deviceOption,
  forgetFailedFirstStart,
  RETRY_FLAG,
  SUPERVISE_HELP,
  startSupervised,
  supervisedOnline,
  supervisedStopping,
  superviseExtras,
} from './node-supervise.js';
import { addSurveyFlags, SURVEY_HELP, surveyOptions } from './node-survey.js';
import { readPasswordFile } from './password.js';
import { PREFIX_FLAG, parsePrefix, prefixNote, topicPrefixOption } from './prefix.js';
import { CA_FLAG, readCaFile } from './tls.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** The serial drivers the flags ask for, and the ports to close after the node stopped. */
async function openDrivers(
  flags: NodeFlags,
  position: { lat: number; lon: number } | undefined,
): Promise<{ drivers: SensorDriver[]; ports: SerialPortStream[]; sims: SimulateSpec[] }> {
  const gps = flags.gps === undefined ? undefined : parsePortSpec('--gps', flags.gps, DEFAULT_GPS_BAUD_RATE);
  const sensors = (flags.sensor ?? []).map((s) => parsePortSpec('--sensor', s, DEFAULT_LINE_SENSOR_BAUD_RATE));
  const sims = (flags.simulate ?? []).map(parseSimulate);
  if (sims.length > 0 && position === undefined) {
    throw usage('--simulate', 'needs --position LAT,LON (where the simulated sensor stands)');
  }
  const drivers: SensorDriver[] = [];
  const ports: SerialPortStream[] = [];
  try {
    // Serial ports first: a missing binding or a bad path fails before anything else started.
    if (gps) {
      const port = await openSerialPort(gps);
      ports.push(port);
      drivers.push(createNmeaGps(port));
    }
    for (const s of sensors) {
      const port = await openSerialPort(s);
      ports.push(port);
      drivers.push(createLineSensor(port));
    }
  } catch (err) {
    await Promise.all(ports.map((p) => closeSerialPort(p).catch(() => undefined)));
    throw err;
  }
  return { drivers, ports, sims };
}

/** Safe mode opens no sensor. */
const NO_DRIVERS = { drivers: [], ports: [], sims: [] } as const;

/** The embedded broker checks no passwords: listening beyond this machine lets anyone on the network in. */
function warnOpenEmbedded(broker: string, host: string, log: Logger): void {
  if (broker !== 'embedded' || isLoopback(host)) return;
  log.warn(
    { embeddedHost: host },
    `the embedded broker listens on ${host} without authentication: any device that reaches it can join ` +
      'the fleet; on a shared network run `dameso broker --auth-file` instead',
  );
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || host.startsWith('127.');

/** `--http-port`: the embedded broker's dashboard (only a broker this process runs can serve it). */
async function embeddedDashboard(flags: NodeFlags, broker: string) {
  const port = parseHttpPort(flags.httpPort);
  if (port !== undefined && broker !== 'embedded') {
    throw new DamesoError(
      'DAMESO_USAGE',
      '--http-port needs --broker embedded (a separate broker serves the dashboard: dameso broker --http-port)',
    );
  }
  return dashboardHttp(port, { ...topicPrefixOption(flags.prefix), auth: false });
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** `, surveys every 60 s` when this node runs the survey loop (the observe service's rule), else nothing. */
function surveyLine(roles: readonly string[], o: { surveyEveryS: number; survey: string[] }): string {
  if (o.surveyEveryS <= 0 || (!roles.includes(MAPPER_ROLE) && o.survey.length === 0)) return '';
  return `, surveys every ${o.surveyEveryS} s${o.survey.length > 0 ? ` (+ ${o.survey.join(',')})` : ''}`;
}

/** Stops the started node, then rethrows (a metrics port that cannot be bound ends the command). */
const stopThen =
  (node: { stop(): Promise<void> }) =>
  async (err: unknown): Promise<never> => {
    await node.stop().catch(() => undefined);
    throw err;
  };

export function registerNode(program: Command): void {
  const command = program
    .command('node')
    .description(
      'run one dameso node until Ctrl-C: it keeps its series in --data, announces itself (retained ' +
        'presence, Will = offline), answers the intents its roles serve (bt: chunks, mapper: ' +
        'observations) through its limiters, and stops cleanly on SIGINT/SIGTERM',
    )
    // Not requiredOption: the id may come from --config (checked once the file is merged).
    .option('--id <id>', 'node id, [A-Za-z0-9_-]{1,64} (required), here or as "id" in --config')
    .option('--config <file>', 'JSON file with these settings (keys: the long flags in camelCase); flags override it')
    .option('--roles <list>', 'roles served, comma-separated (bt, mapper)', '')
    .option(
      '--broker <url>',
      'mqtt://host:port, mqtts://host:port (TLS; see --ca), several of one cluster comma-separated ' +
        '(tried in turn, the next one when a broker is lost), or "embedded" to run a broker in this process',
      DEFAULT_BROKER_URL,
    )
    .option(
      '--password-file <file>',
      'password for a broker run with --auth-file (user name = --id); the file holds only the password',
    )
    .option(...CA_FLAG)
    .option(...PREFIX_FLAG)
    .option('--data <dir>', 'data folder (series, chunks); default ~/.dameso/<id>')
    .addOption(deviceFlag())
    .option(...RETRY_FLAG)
    .option('--embedded-port <port>', 'port of the embedded broker (with --broker embedded)', '1883')
    .option(
      '--embedded-host <addr>',
      'interface the embedded broker listens on: 127.0.0.1 serves this machine only, 0.0.0.0 every ' +
        'board on the network (it has no passwords: run `dameso broker --auth-file` for that); e.g. --embedded-host 0.0.0.0',
      '127.0.0.1',
    )
    .option(...LOG_LEVEL_FLAG)
    .option(...LOG_FORMAT_FLAG)
    .option(
      '--gps <path[:baud]>',
      `NMEA 0183 GPS on a serial port (GGA/RMC fixes), baud default ${DEFAULT_GPS_BAUD_RATE}; e.g. --gps /dev/ttyACM0 or --gps /dev/serial0:9600`,
    )
    .option(
      '--sensor <path[:baud]>',
      `line-protocol sensor ("metric=value" lines, e.g. a microcontroller), baud default ${DEFAULT_LINE_SENSOR_BAUD_RATE}; repeatable; e.g. --sensor /dev/ttyUSB0`,
      collect,
    )
    .option(
      '--position <lat,lon>',
      'fixed station position in decimal degrees, used when no GPS fix is fresh; e.g. --position 48.8566,2.3522',
    )
    .option(HTTP_PORT_FLAG[0], `${HTTP_PORT_FLAG[1]} (with --broker embedded)`)
    .option(
      '--simulate <metric[,bias=N][,noise=N][,seed=N]>',
      'a simulated sensor over the synthetic field at --position (for fleets and demos); bias is added to ' +
        'every reading (a liar), noise is the Gaussian sd (default 1), seed the noise seed (default: from --id; ' +
        'a copier repeats a liar with its seed); repeatable; e.g. --simulate temp or --simulate temp,bias=10,noise=0.5,seed=7',
      collect,
    )
    .option(
      '--replicate <k>',
      `back this node's own series up to K storage (bt) nodes while it runs, from its push mark, paced ` +
        `(0 = off; default ${DEFAULT_REPLICATE}); it waits while fewer than K are online; e.g. --replicate 2`,
    )
    .option(...METRICS_PORT_FLAG)
    .option(...METRICS_HOST_FLAG);
  addSurveyFlags(addBehaviourFlags(command))
    .addHelpText(
      'after',
      '\nSensors (any of --gps, --sensor, --position, --simulate makes the node a mapper):\n' +
        '  dameso node --id station-1 --gps /dev/ttyACM0 --sensor /dev/ttyUSB0:115200\n' +
        '  dameso node --id roof --position 48.8566,2.3522 --sensor /dev/ttyUSB0\n' +
        '  dameso node --id sim-3 --position 48.8566,2.3522 --simulate temp,noise=0.5 --broker embedded\n' +
        'Serial ports need the native binding (@serialport/bindings-cpp); list them with `dameso devices`.\n',
    )
    .addHelpText(
      'after',
      `
Examples:
  dameso node --id pi-7 --roles bt --broker mqtt://hub:1883 --data /var/lib/dameso --device pi-zero-2w
  dameso node --id hub --roles bt,mapper --broker embedded --embedded-host 0.0.0.0 --embedded-port 1883
  dameso node --id pi-7 --roles bt --broker mqtt://hub:1883 --password-file /etc/dameso/pi-7.secret
  dameso node --id pi-7 --roles bt --broker mqtt://site-a:1883,mqtt://site-b:1883   (a Redis cluster: fails over)
  dameso node --id pi-7 --roles bt --broker mqtts://hub:8883 --ca /etc/dameso/ca.crt --password-file /etc/dameso/pi-7.secret
  dameso node --id pi-7 --roles mapper --position 48.8566,2.3522 --broker mqtt://hub:1883 --replicate 2
  dameso node --id pi-7 --roles bt --broker mqtt://hub:1883 --prefix fleet1   (the broker runs with --prefix fleet1 too)

Backup (--replicate K, default ${DEFAULT_REPLICATE}, 0 = off): the node pushes its own series to K other bt nodes
in the background, a few chunks every few seconds, from the last entry replicated K times; a restart
resumes there. With fewer than K bt nodes online it waits (one warning, one "backup" entry) and goes
on when enough join; it pauses while the broker is away or the node is busy. Progress: the metrics
dameso_backup_mark / dameso_backup_lag_entries / dameso_backup_state, and the "backup" entries.

Ctrl-C while the broker is awaited stops at once. A damaged record in the series is skipped at open
and said (a warning, dameso_series_damaged_records, dameso status). Another process connected with
the same --id is said once a minute (DAMESO_ID_TAKEN) while this node reconnects at its longest delay.

Exit codes: 0 stopped on SIGINT/SIGTERM; 64 bad flags (--broker without mqtt://, a bad --id); 65 the
data folder holds a damaged series; 69 broker unreachable, series locked by another node or serial port
unavailable; 73 cannot write the data folder (read-only, disk full); 78 bad configuration (unknown role
or board, metrics port taken, unreadable --password-file or --ca, the broker refused the password or
wants one, the broker's --prefix differs from this node's (DAMESO_PREFIX_MISMATCH), its TLS
certificate did not verify against --ca, or mqtt:// to a TLS port / mqtts:// to a plain one).`,
    )
    .addHelpText('after', SURVEY_HELP)
    .addHelpText('after', BEHAVIOUR_HELP)
    .addHelpText('after', metricsHelp('node --id pi-7'))
    .addHelpText('after', NODE_ROUTES_HELP)
    .addHelpText('after', CONFIG_HELP)
    .addHelpText('after', SUPERVISE_HELP)
    .action(async (_cliFlags: NodeFlags, cmd: Command) => {
      const flags = await applyNodeConfig(cmd);
      // A bad --id is a bad flag (64); one from the --config file is bad configuration (78).
      if (cmd.getOptionValueSource('id') === 'cli') nodeIdFlag(flags.id);
      const broker = parseBrokerUrl(flags.broker, { embedded: true });
      parsePrefix(flags.prefix);
      const port = Number(flags.embeddedPort);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new DamesoError('DAMESO_USAGE', `--embedded-port must be a port number, got "${flags.embeddedPort}"`);
      }
      const metricsListen = parseMetricsFlags(flags);
      // A busy --metrics-port is refused before the node goes online (session, presence).
      if (metricsListen) await checkMetricsListen(metricsListen);
      const replicate = parseReplicate(flags.replicate);
      const dataDir = flags.data ?? path.join(os.homedir(), '.dameso', flags.id);
      const log = loggerFromFlags(flags);
      warnOpenEmbedded(broker, flags.embeddedHost, log);
      const position = flags.position === undefined ? undefined : parsePosition(flags.position);
      const survey = surveyOptions(flags);
      const answerBehaviour = answerBehaviourOf(flags);
      const brokerPassword =
        flags.passwordFile === undefined ? undefined : await readPasswordFile('--password-file', flags.passwordFile);
      const brokerCa = await readCaFile('--ca', flags.ca);
      const roles = splitList(flags.roles);
      checkRoles(roles);
      const embeddedHttp = await embeddedDashboard(flags, broker);
      const dev = deviceOption(flags.device);
      // Recorded before anything that could crash (sensors, the series, services) runs.
      const dataExisted = await dataFolderExists(dataDir);
      const sup = await beginSupervision(flags.id, dataDir, log);
      const safe = sup.safeMode !== undefined;
      const { drivers: serial, ports, sims } = safe ? NO_DRIVERS : await openDrivers(flags, position);
      const shared = {
        id: flags.id,
        broker,
        embeddedPort: port,
        embeddedHost: flags.embeddedHost,
        ...(brokerPassword !== undefined ? { brokerPassword } : {}),
        ...(brokerCa !== undefined ? { brokerCa } : {}),
        ...topicPrefixOption(flags.prefix),
        dataDir,
        ...(dev.device !== undefined ? { device: dev.device } : {}),
        ...(embeddedHttp !== undefined ? { embeddedHttp } : {}),
        log,
      };
      let assembled: ReturnType<typeof assembleNode> | undefined;
      // Safe mode: presence and status only (no roles, services, sensors or backup).
      const createOne = () => {
        if (safe) return createNode(shared);
        assembled = assembleNode({
          ...shared,
          roles,
          replicate,
          drivers: serial,
          simulate: sims,
          ...(position !== undefined ? { position } : {}),
          survey,
          ...(answerBehaviour !== undefined ? { answerBehaviour } : {}),
        });
        return assembled.node;
      };
      const signal = untilSignal();
      // Ctrl-C while the broker is awaited: start() gives up at once and cleans up (exit 0, as any
      // Ctrl-C stop: the user asked for it, nothing failed).
      const closePorts = () => Promise.all(ports.map((p) => closeSerialPort(p).catch(() => undefined)));
      const node = await startSupervised({ create: createOne, retry: flags.retry === true, log, s: sup, signal }).catch(
        async (err: unknown) => {
          await closePorts();
          await forgetFailedFirstStart(dataDir, dataExisted, err);
          throw err;
        },
      );
      if (node === undefined) {
        await closePorts();
        process.stdout.write(`node ${flags.id} stopped before it was online\n`);
        return;
      }
      const observes = assembled?.observes ?? false;
      const drivers = assembled?.drivers ?? [];
      const metrics =
        metricsListen && (await serveNodeMetrics(node, metricsListen, superviseExtras(sup)).catch(stopThen(node)));
      process.stdout.write(
        `node ${node.id} online (session ${node.transport.session}, roles ${node.roles.join(',') || '-'}) ` +
          `on ${node.brokerUrl}${prefixNote(flags.prefix)}, data ${dataDir}` +
          (observes
            ? `, ${drivers.length} sensor driver(s)${position ? ` at ${position.lat},${position.lon}` : ''}`
            : '') +
          surveyLine(node.roles, survey) +
          behaviourLine(answerBehaviour) +
          (metrics ? `, metrics ${metrics.url}` : '') +
          (node.embeddedBroker?.httpUrl !== undefined ? `, dashboard ${node.embeddedBroker.httpUrl}` : '') +
          (safe
            ? ', SAFE MODE (presence and status only)'
            : replicate > 0
              ? `, backup to ${replicate} storage node${replicate === 1 ? '' : 's'}`
              : ', backup off') +
          dev.line +
          '; Ctrl-C to stop\n',
      );
      supervisedOnline(sup, `online, session ${node.transport.session}${safe ? ', SAFE MODE' : ''}`);
      const sig = await signal;
      log.info({ signal: sig }, 'node: stopping');
      const stopping = supervisedStopping(sup);
      await metrics?.close();
      await node.stop();
      await closePorts();
      await stopping.settled();
      process.stdout.write(`node ${node.id} stopped\n`);
    });
}

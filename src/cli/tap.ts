/**
 * `dameso tap`: subscribe to the dameso topics and print one decoded line per message (what
 * `mosquitto_sub -v` gives, readable): presence, intents, replies with the ms since the tap saw
 * their intent, have and sync records, and `malformed` for a payload the protocol refuses. A
 * plain MQTT client, not a node: no series, no presence, and a client id that is not `dameso.{node}`
 * (so the broker delivers it intents addressed to anyone) unless broker credentials need one.
 */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { DamesoError } from '../errors.js';
import { DEFAULT_BROKER_URL } from '../node/constants.js';
import { clientIdForNode, createTopics, type Topics } from '../protocol/index.js';
import {
  concerns,
  decodeTap,
  IntentTimes,
  TAP_CONNECT_TIMEOUT_MS,
  TAP_MAX_BUFFERED_BYTES,
  TAP_RECONNECT_MS,
  TAP_TYPES,
  type TapType,
  tapLine,
} from '../tap/index.js';
import { BrokerCertificateError, BrokerNotAuthorizedError, isCertificateError } from '../transport/index.js';
import { parseBrokerUrl } from './broker-url.js';
import { splitList } from './node-flags.js';
import { brokerPasswordOf, PASSWORD_FILE_FLAG } from './password.js';
import { PREFIX_FLAG, parsePrefix } from './prefix.js';
import { CA_FLAG, readCaFile } from './tls.js';

interface TapFlags {
  broker: string;
  kind?: string;
  node?: string;
  json?: boolean;
  id?: string;
  passwordFile?: string;
  ca?: string;
  prefix: string;
}

/** `--kind a,b` → the message types to print (all when absent); an unknown one is a usage error. */
export function parseKinds(v: string | undefined): Set<TapType> {
  const kinds = splitList(v);
  if (kinds.length === 0) return new Set(TAP_TYPES);
  const unknown = kinds.filter((k) => !(TAP_TYPES as readonly string[]).includes(k));
  if (unknown.length > 0) {
    throw new DamesoError(
      'DAMESO_USAGE',
      `--kind: unknown type(s) ${unknown.join(', ')}; known: ${TAP_TYPES.join(', ')}`,
    );
  }
  return new Set(kinds as TapType[]);
}

/** The filters the types need; `malformed` alone listens everywhere (anything may be malformed). */
export function tapFilters(topics: Topics, kinds: ReadonlySet<TapType>): string[] {
  const byType: Record<Exclude<TapType, 'malformed'>, string> = {
    presence: topics.presenceFilter,
    intent: `${topics.root}/intent/+`,
    reply: `${topics.root}/reply/+`,
    have: topics.haveFilter(),
    sync: `${topics.root}/sync/+`,
  };
  const wanted = Object.entries(byType).filter(([type]) => kinds.has(type as TapType) || kinds.has('malformed'));
  return wanted.map(([, filter]) => filter);
}

/** Connects once; a refusal or an unreachable broker ends the command with its exit code. */
function connect(url: string, options: IClientOptions, id: string): Promise<MqttClient> {
  const client = mqtt.connect(url, options);
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      off();
      client.end(true);
      reject(err);
    };
    const onError = (err: Error & { code?: unknown }) => {
      if (err.code === 4 || err.code === 5) fail(new BrokerNotAuthorizedError(url, id, err.code));
      else if (isCertificateError(err)) fail(new BrokerCertificateError(url, err));
      else fail(unreachable(url, String(err.code ?? err.message)));
    };
    const onClose = () => fail(unreachable(url, 'connection closed'));
    const onConnect = () => {
      off();
      resolve(client);
    };
    // Only these listeners go: mqtt.js keeps its own on the same events.
    const off = () => {
      client.off('error', onError);
      client.off('close', onClose);
      client.off('connect', onConnect);
    };
    client.on('error', onError);
    client.on('close', onClose);
    client.on('connect', onConnect);
  });
}

const unreachable = (url: string, why: string) =>
  new DamesoError(
    'DAMESO_BROKER_UNREACHABLE',
    `cannot connect to the MQTT broker at ${url} (${why}); check --broker and that the broker runs`,
  );

/** Resolves on SIGINT, SIGTERM, or a closed stdout (EPIPE: the reader went away, e.g. `| head`). */
function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') done();
    });
  });
}

/** Writes lines to stdout; past `TAP_MAX_BUFFERED_BYTES` waiting for a slow reader, drops and counts. */
function lineWriter() {
  let dropped = 0;
  return {
    write(line: string): void {
      if (process.stdout.writableLength > TAP_MAX_BUFFERED_BYTES) dropped++;
      else process.stdout.write(`${line}\n`);
    },
    dropped: () => dropped,
  };
}

async function tapCmd(flags: TapFlags): Promise<void> {
  const broker = parseBrokerUrl(flags.broker);
  const kinds = parseKinds(flags.kind);
  const nodes = new Set(splitList(flags.node));
  const password = await brokerPasswordOf(flags);
  const ca = await readCaFile('--ca', flags.ca);
  const topics = createTopics(parsePrefix(flags.prefix));
  const id = flags.id ?? `tap-${process.pid}-${randomBytes(3).toString('hex')}`;
  const stopped = untilStopped();
  const client = await connect(
    broker,
    {
      protocolVersion: 4,
      // With credentials the broker wants `dameso.{id}`; without, an id of no node (sees every intent).
      clientId: flags.id !== undefined ? clientIdForNode(flags.id) : id,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: TAP_CONNECT_TIMEOUT_MS,
      ...(password !== undefined ? { username: flags.id, password } : {}),
      ...(ca !== undefined ? { ca } : {}),
    },
    id,
  );
  // Once connected, a broker that goes away is waited for (mqtt.js reconnects and resubscribes).
  client.options.reconnectPeriod = TAP_RECONNECT_MS;
  client.on('error', () => undefined);
  client.on('offline', () => process.stderr.write(`tap: lost ${flags.broker}; reconnecting\n`));
  client.on('connect', () => process.stderr.write(`tap: back on ${flags.broker}\n`));
  const out = lineWriter();
  const intents = new IntentTimes();
  client.on('message', (topic, payload, packet) => {
    const e = decodeTap(topic, payload, packet.retain, {
      root: topics.root,
      intents,
      now: Date.now(),
      monotonic: performance.now(),
    });
    if (e === undefined || !kinds.has(e.type) || (nodes.size > 0 && !concerns(e, nodes))) return;
    out.write(flags.json ? JSON.stringify(e) : tapLine(e));
  });
  const filters = tapFilters(topics, kinds);
  const granted = await client.subscribeAsync(Object.fromEntries(filters.map((f) => [f, { qos: 0 as const }])));
  const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
  if (refused.length > 0) {
    process.stderr.write(
      `tap: the broker refused ${refused.join(', ')} (with --auth-file a node sees only its own replies and sync records)\n`,
    );
  }
  process.stderr.write(`tap: listening on ${flags.broker} (${filters.join(' ')}); Ctrl-C to stop\n`);
  await stopped;
  await client.endAsync(true).catch(() => undefined);
  if (out.dropped() > 0) process.stderr.write(`tap: dropped ${out.dropped()} line(s): stdout did not keep up\n`);
}

export function registerTap(program: Command): void {
  program
    .command('tap')
    .description(
      'print the dameso traffic on a broker, one decoded line per message: presence, intents, replies (yes / no ' +
        'and why, ms since the intent), have and sync records, malformed payloads; until Ctrl-C',
    )
    .option('--broker <url>', 'mqtt://host:port or mqtts://host:port', DEFAULT_BROKER_URL)
    .option('--kind <list>', `only these message types, comma-separated (${TAP_TYPES.join(', ')})`)
    .option('--node <list>', 'only messages sent by or addressed to these node ids, comma-separated')
    .option('--json', 'one JSON object per message (jsonl)')
    .option(
      '--id <id>',
      'the user name for a broker run with --auth-file (connects as dameso.<id>; use an id of its own)',
    )
    .option(...PASSWORD_FILE_FLAG)
    .option(...CA_FLAG)
    .option(...PREFIX_FLAG)
    .addHelpText(
      'after',
      `
Examples:
  dameso tap --broker mqtt://hub:1883
  dameso tap --kind intent,reply --node pi-7
  dameso tap --kind malformed                 # payloads the protocol refuses, with their topic
  dameso tap --broker mqtt://hub:1883 --prefix fleet1   # fleet1's traffic (topics fleet1/v1/…)
  dameso tap --json | jq 'select(.type=="reply" and .r=="no")'
  dameso tap --broker mqtts://hub:8883 --ca ca.crt --id ops-tap --password-file ops-tap.secret

Lines: time, type, then what the message says, e.g.
  12:00:01.204 intent    want_chunk from map1 subject 3f1c… id 01J… deadline 2000 ms
  12:00:01.207 reply     no storage_full from pi-7 to map1 id 01J… (2.9 ms)
Under broker authentication the ACL shows a node only its own replies: the tap says which
subscriptions the broker refused, and an --id that a running node uses would take its connection.

Exit codes: 0 stopped (Ctrl-C, SIGTERM, or the reader of stdout went away); 64 bad flags;
69 broker unreachable; 78 the broker refused the password, unreadable --password-file or --ca.`,
    )
    .action(tapCmd);
}

/**
 * `dameso intent KIND`: declare one intent as a short-lived node and print the outcome.
 *
 * The short-lived node: id `cli-<random>`, no roles, no presence of its own (`announce: false`, so
 * the fleet never counts it as a silent responder and no retained record is left behind), a series
 * in a fresh temp folder removed at exit (or `--data DIR` to keep it: the outcome is then in
 * `DIR/series` as an `intent_outcome` entry). Like any node it declares only once it holds the
 * retained roster. Against a broker that authenticates, `--password-file` with `--id` (the user
 * name) gives it the password of a node the broker knows.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { DamesoError } from '../errors.js';
import { alwaysYesGate, KIND_ROLES, MAX_DEADLINE_MS, type Outcome, type ReceivedReply } from '../intent/index.js';
import { createLogger } from '../log.js';
import { createNode, type DamesoNode, DEFAULT_BROKER_URL } from '../node.js';
import { WANT_OBSERVATIONS } from '../observe/index.js';
import { roundTo } from '../round-to.js';
import { StartAbortedError } from '../transport/index.js';
import { parseBrokerUrl } from './broker-url.js';
import { idTakenGuard, nodeIdFlag } from './chunks-net.js';
import { EXIT } from './exit.js';
import { checkObservationsSubject, observationsText } from './intent-observations.js';
import { splitList } from './node-flags.js';
import { brokerPasswordOf, PASSWORD_FILE_FLAG } from './password.js';
import { PREFIX_FLAG, parsePrefix, topicPrefixOption } from './prefix.js';
import { CA_FLAG, readCaFile } from './tls.js';

interface IntentFlags {
  subject?: string;
  body?: string;
  bodyFile?: string;
  deadline: string;
  to?: string;
  broker: string;
  json?: boolean;
  data?: string;
  id?: string;
  passwordFile?: string;
  ca?: string;
  prefix: string;
}

const ms = (v: number): string => `${v.toFixed(1)} ms`;

function replyLine(r: ReceivedReply): string {
  const e = r.envelope;
  const why = e.r === 'no' ? ` ${e.reason ?? ''}${e.retry !== undefined ? ` retry ${e.retry} ms` : ''}` : '';
  return `${e.from}${why} (${ms(r.latencyMs)}${r.unexpected ? ', unexpected' : ''})`;
}

/** JSON-safe form of an outcome (bytes as base64). */
export function outcomeJson(outcome: Outcome): unknown {
  const reply = (r: ReceivedReply) => ({
    node: r.envelope.from,
    r: r.envelope.r,
    ...(r.envelope.reason !== undefined ? { reason: r.envelope.reason } : {}),
    ...(r.envelope.retry !== undefined ? { retry: r.envelope.retry } : {}),
    latencyMs: roundTo(r.latencyMs),
    unexpected: r.unexpected,
    ...(r.envelope.data !== undefined ? { data: r.envelope.data } : {}),
    ...(r.envelope.lim !== undefined ? { lim: r.envelope.lim } : {}),
  });
  return {
    id: outcome.id,
    kind: outcome.kind,
    subject: outcome.subject,
    expected: outcome.expected,
    yes: outcome.yes.map(reply),
    no: outcome.no.map(reply),
    silence: outcome.silence,
    offline: outcome.offline,
    late: outcome.late.map(reply),
    closedBy: outcome.closedBy,
    elapsedMs: roundTo(outcome.elapsedMs),
  };
}

function humanOutcome(outcome: Outcome): string {
  const list = (xs: string[]) => (xs.length === 0 ? '-' : xs.join(', '));
  return [
    `${outcome.kind}${outcome.subject !== undefined ? ` ${outcome.subject}` : ''}: closed by ${outcome.closedBy} after ${ms(outcome.elapsedMs)}, ` +
      `${outcome.expected.length} expected`,
    `  yes      ${list(outcome.yes.map(replyLine))}`,
    `  no       ${list(outcome.no.map(replyLine))}`,
    `  silence  ${list(outcome.silence)}`,
    `  offline  ${list(outcome.offline)}`,
    `  late     ${list(outcome.late.map(replyLine))}`,
  ].join('\n');
}

/** The outcome, and for want_observations the values and their consensus. */
function humanText(outcome: Outcome): string {
  const head = humanOutcome(outcome);
  return outcome.kind === WANT_OBSERVATIONS ? `${head}\n${observationsText(outcome)}` : head;
}

/** JSON replacer: byte strings (Buffer's toJSON runs first, so look at the holder) as base64. */
export function bytesAsBase64(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  return raw instanceof Uint8Array ? Buffer.from(raw).toString('base64') : value;
}

/** Kinds whose subject names what they are about: without one, nobody can answer. */
const SUBJECT_NEEDED: Readonly<Record<string, string>> = {
  want_chunk: 'the chunk id (64 hex characters)',
  store_chunk: 'the chunk id (the SHA-256 of the --body-file bytes)',
};

function checkSubject(kind: string, subject: string | undefined): void {
  const what = SUBJECT_NEEDED[kind];
  if (what !== undefined && subject === undefined) {
    throw new DamesoError('DAMESO_USAGE', `${kind} needs --subject: ${what}`);
  }
}

function parseDeadline(v: string): number {
  const deadlineMs = Number(v);
  if (!Number.isInteger(deadlineMs) || deadlineMs < 1 || deadlineMs > MAX_DEADLINE_MS) {
    throw new DamesoError(
      'DAMESO_USAGE',
      `--deadline must be an integer of ms from 1 to ${MAX_DEADLINE_MS}, got "${v}"`,
    );
  }
  return deadlineMs;
}

/** `--body JSON` or `--body-file F` (its raw bytes: a chunk for store_chunk). */
async function bodyOf(flags: IntentFlags): Promise<unknown> {
  if (flags.bodyFile === undefined) return parseBody(flags.body);
  if (flags.body !== undefined) throw new DamesoError('DAMESO_USAGE', 'give --body or --body-file, not both');
  try {
    return new Uint8Array(await readFile(flags.bodyFile));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'EISDIR' ? 'a folder' : 'cannot be read';
    throw new DamesoError('DAMESO_BAD_PATH', `--body-file ${flags.bodyFile}: ${why}`);
  }
}

/** Declares the intent, prints its outcome; names the `--to` nodes that are not online (69 when none is, or no node at all is). */
async function declareAndPrint(
  node: DamesoNode,
  kind: string,
  request: IntentFlags & { deadlineMs: number; payload: unknown },
  taken: Promise<never>,
): Promise<void> {
  const to = splitList(request.to);
  const absent = notInRoster(node, to);
  // An empty roster is most often a fleet under another prefix: say which one was looked at.
  const where = `under --prefix ${request.prefix} (topics ${request.prefix}/v1/…)`;
  const noneOnline = node.roster.online().length === 0;
  if (absent.length > 0) {
    const hint = noneOnline ? `; no node at all is online ${where}` : '';
    process.stderr.write(
      `dameso: --to ${absent.join(',')}: not online (not in the roster)${hint} [DAMESO_NOT_ONLINE]\n`,
    );
  } else if (noneOnline) {
    process.stderr.write(
      `dameso: no node is online ${where}; a fleet of another --prefix is not seen [DAMESO_NOT_ONLINE]\n`,
    );
  }
  const declared = node.declare(kind, {
    deadlineMs: request.deadlineMs,
    ...(request.subject !== undefined ? { subject: request.subject } : {}),
    ...(request.payload !== undefined ? { body: request.payload } : {}),
    ...(to.length > 0 ? { to } : {}),
  });
  const outcome = await Promise.race([declared, taken]);
  const text = request.json ? JSON.stringify(outcomeJson(outcome), bytesAsBase64) : humanText(outcome);
  process.stdout.write(`${text}\n`);
  // Nothing could answer: every named node, or every node at all, was absent (exit 69, as the line said).
  if ((to.length > 0 && absent.length === to.length) || noneOnline) process.exitCode = EXIT.unavailable;
}

/** `--to` names that are not online nodes of the roster: they cannot answer. */
function notInRoster(node: DamesoNode, to: readonly string[]): string[] {
  const online = new Set(node.roster.online().map((p) => p.node));
  return to.filter((n) => !online.has(n));
}

function parseBody(body: string | undefined): unknown {
  if (body === undefined) return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new DamesoError('DAMESO_USAGE', `--body must be JSON (e.g. '{"event":"boot"}'), got ${body.slice(0, 80)}`);
  }
}

export function registerIntent(program: Command): void {
  program
    .command('intent <kind>')
    .description(
      'declare one intent (want_chunk, store_chunk, want_chunks, want_observations) as a short-lived ' +
        'node and print the outcome: who said yes, who said no and why, who stayed silent, who went ' +
        'offline, late replies, elapsed ms',
    )
    .option('--subject <s>', 'subject (chunk id, geohash cell)')
    .option('--body <json>', 'body as JSON (e.g. a want_chunks filter)')
    .option('--body-file <file>', "the file's raw bytes as the body (a chunk for store_chunk)")
    .option('--deadline <ms>', `deadline, ms after receipt (1..${MAX_DEADLINE_MS})`, '2000')
    .option('--to <list>', 'only these node ids, comma-separated')
    .option('--broker <url>', 'mqtt://host:port', DEFAULT_BROKER_URL)
    .option('--data <dir>', 'keep the short-lived node series here (default: a temp folder, removed)')
    .option('--id <id>', 'node id of the short-lived node (default cli-<random>)')
    .option(...PASSWORD_FILE_FLAG)
    .option(...CA_FLAG)
    .option(...PREFIX_FLAG)
    .option('--json', 'print the outcome as one JSON object')
    .addHelpText(
      'after',
      `
Examples:
  dameso intent want_chunk --subject 3f1c…e9 --broker mqtt://hub:1883
  dameso intent want_observations --subject u09tv --deadline 3000
      (each responder's values, then the median per cell and metric with equal weights)
  dameso intent want_observations --subject u09tv --deadline 3000 --json
  dameso intent want_chunks --body '{"node":"pi-7"}' --to pi-3,pi-4
  dameso intent store_chunk --subject "$(sha256sum c.cbor | cut -c1-64)" --body-file c.cbor --to pi-3
  dameso intent want_chunk --subject 3f1c…e9 --broker mqtt://hub:1883 --id ops --password-file ~/.dameso/ops.secret
  dameso intent want_chunk --subject 3f1c…e9 --broker mqtts://hub:8883 --ca ~/.dameso/ca.crt
  dameso intent want_observations --subject u09tv --broker mqtt://hub:1883 --prefix fleet1   (fleet1's nodes only)

A --to node that is not online is named on stderr. Ctrl-C prints the outcome so far (closed by
"stopped") and exits 130.

Exit codes: 0 the outcome was printed (whatever the replies); 64 bad flags or unknown kind;
69 broker unreachable, none of the --to nodes is online, or another process uses --id; 130 interrupted; 78 unreadable --password-file or --ca, the broker refused the password, or its
TLS certificate did not verify against --ca.`,
    )
    .action(runIntent);
}

/** Declares one intent from a short-lived node and prints its outcome; Ctrl-C prints it so far. */
async function runIntent(kind: string, flags: IntentFlags): Promise<void> {
  // The short-lived node declares only v1 kinds (it has no kindRoles): refuse others before
  // connecting, as a usage error.
  if (!Object.hasOwn(KIND_ROLES, kind)) {
    throw new DamesoError(
      'DAMESO_USAGE',
      `unknown intent kind "${kind}"; v1 kinds: ${Object.keys(KIND_ROLES).join(', ')}`,
    );
  }
  const deadlineMs = parseDeadline(flags.deadline);
  const id = nodeIdFlag(flags.id) ?? `cli-${randomBytes(6).toString('hex')}`;
  const broker = parseBrokerUrl(flags.broker);
  parsePrefix(flags.prefix);
  checkSubject(kind, flags.subject);
  checkObservationsSubject(kind, flags.subject);
  const body = await bodyOf(flags);
  const brokerPassword = await brokerPasswordOf(flags);
  const brokerCa = await readCaFile('--ca', flags.ca);
  const keepAlive = setInterval(() => undefined, 1 << 30);
  // Ctrl-C: stopping the node closes the open intent ("stopped"), so its outcome so far prints.
  // Listened to before the temp folder exists, so no Ctrl-C can leave it behind.
  let node: DamesoNode | undefined;
  let stopping: Promise<void> | undefined;
  let interrupted = false;
  const interrupt = (): void => {
    interrupted = true;
    if (node !== undefined) stopping ??= node.stop();
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  let temp: string | undefined;
  try {
    temp = flags.data === undefined ? await mkdtemp(path.join(os.tmpdir(), 'dameso-intent-')) : undefined;
    const guard = idTakenGuard();
    node = createNode({
      onIdTaken: guard.onIdTaken,
      id,
      broker,
      ...(brokerPassword !== undefined ? { brokerPassword } : {}),
      ...(brokerCa !== undefined ? { brokerCa } : {}),
      ...topicPrefixOption(flags.prefix),
      dataDir: flags.data ?? temp!,
      announce: false,
      gate: alwaysYesGate, // serves nothing: no limiters to sample
      durability: flags.data === undefined ? 'none' : 'batch',
      log: createLogger({ level: 'warn' }),
    });
    if (interrupted) throw new StartAbortedError(broker);
    await Promise.race([node.start(), guard.taken]);
    await declareAndPrint(node, kind, { ...flags, deadlineMs, payload: body }, guard.taken);
  } catch (err) {
    if (!(err instanceof StartAbortedError)) throw err;
    process.stderr.write(`dameso: interrupted before the broker answered; nothing was declared\n`);
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await (stopping ?? node?.stop())?.catch(() => undefined);
    if (temp !== undefined) await rm(temp, { recursive: true, force: true });
    clearInterval(keepAlive);
  }
  if (interrupted) process.exitCode = EXIT.interrupted;
}

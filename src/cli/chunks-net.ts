/**
 * What the `dameso chunks` commands share: a short-lived node against `--broker` (no presence, so
 * the fleet never counts it as a silent responder), its flags, number parsing, output, and the
 * progress line a long command prints on stderr once a second.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type ChunksService, type ChunksServiceOptions, createChunksService, isChunkId } from '../chunks/index.js';
import { DamesoError } from '../errors.js';
import { createLogger } from '../log.js';
import { createNode, DEFAULT_BROKER_URL } from '../node.js';
import { isNodeId } from '../protocol/index.js';
import type { IdTakenError } from '../transport/index.js';
import { parseBrokerUrl } from './broker-url.js';
import { brokerPasswordOf, PASSWORD_FILE_FLAG } from './password.js';
import { PREFIX_FLAG, topicPrefixOption } from './prefix.js';
import { CA_FLAG, readCaFile } from './tls.js';

/**
 * The flags of a command that runs a short-lived node: --broker, --password-file, --ca, --prefix, and --id
 * (unless the command's own --id names something else, as `push` does).
 */
export function netFlags(cmd: Command, options: { id?: boolean } = {}): Command {
  cmd
    .option('--broker <url>', 'MQTT broker URL', DEFAULT_BROKER_URL)
    .option(...PASSWORD_FILE_FLAG)
    .option(...CA_FLAG)
    .option(...PREFIX_FLAG);
  if (options.id !== false) cmd.option('--id <node>', 'node id to use on the broker (default: cli-<random>)');
  return cmd;
}

export const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

export function int(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new DamesoError('DAMESO_USAGE', `${flag} must be an integer >= ${min}, got "${v}"`);
  return n;
}

/** Default id of a short-lived node (computed at run time, not shown as a default in --help). */
/**
 * Random, not the pid: two boards (or two containers, where pids are small and alike) running a
 * command at once on one broker would otherwise take over each other's client id.
 */
const cliId = (): string => `cli-${randomBytes(6).toString('hex')}`;

export function chunkIdArg(id: string): string {
  if (!isChunkId(id)) throw new DamesoError('DAMESO_USAGE', `"${id}" is not a chunk id (64 lowercase hex characters)`);
  return id;
}

/**
 * For a short-lived node: `taken` rejects with the IdTakenError once another process is found
 * connected with its id, so the command ends (exit 69) instead of fighting the other for the id.
 */
export function idTakenGuard(): { onIdTaken: (err: IdTakenError) => void; taken: Promise<never> } {
  let fail: (err: IdTakenError) => void = () => undefined;
  const taken = new Promise<never>((_, reject) => {
    fail = reject;
  });
  taken.catch(() => undefined); // raced by the caller; unhandled when the work ends first
  return { onIdTaken: (err) => fail(err), taken };
}

/** `--id` of a node: a bad one is a bad flag (64), caught before anything starts. */
export function nodeIdFlag(id: string | undefined): string | undefined {
  if (id !== undefined && !isNodeId(id)) {
    throw new DamesoError('DAMESO_USAGE', `--id "${id}" must match [A-Za-z0-9_-]{1,64} (e.g. --id pi-7)`);
  }
  return id;
}

/** Runs `fn` with a started short-lived node; a ref'd timer keeps the process alive meanwhile. */
export async function withNode<T>(
  net: NetNode & { dataDir?: string; chunks?: ChunksServiceOptions },
  fn: (chunks: ChunksService) => Promise<T>,
): Promise<T> {
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const temp = net.dataDir === undefined ? await mkdtemp(join(tmpdir(), 'dameso-cli-')) : undefined;
  const chunks = createChunksService({ ...net.chunks, track: false });
  const guard = idTakenGuard();
  const node = createNode({
    onIdTaken: guard.onIdTaken,
    id: net.id,
    roles: [],
    broker: net.broker,
    ...(net.brokerPassword !== undefined ? { brokerPassword: net.brokerPassword } : {}),
    ...(net.brokerCa !== undefined ? { brokerCa: net.brokerCa } : {}),
    ...(net.topicPrefix !== undefined ? { topicPrefix: net.topicPrefix } : {}),
    dataDir: net.dataDir ?? temp!,
    announce: false,
    services: [chunks],
    log: createLogger({ level: 'warn' }),
  });
  try {
    await Promise.race([node.start(), guard.taken]);
    return await Promise.race([fn(chunks), guard.taken]);
  } finally {
    await node.stop().catch(() => undefined);
    if (temp) await rm(temp, { recursive: true, force: true });
    clearInterval(keepAlive);
  }
}

export interface NetFlags {
  broker: string;
  id?: string;
  passwordFile?: string;
  ca?: string;
  prefix: string;
  json?: boolean;
}

export interface NetNode {
  id: string;
  broker: string;
  brokerPassword?: string;
  brokerCa?: string;
  topicPrefix?: string;
}

/** The short-lived node's id, broker password, CA and prefix (`--password-file`, `--ca`, read before connecting). */
export async function netNode(f: NetFlags): Promise<NetNode> {
  const broker = parseBrokerUrl(f.broker);
  const brokerPassword = await brokerPasswordOf(f);
  const brokerCa = await readCaFile('--ca', f.ca);
  return {
    id: nodeIdFlag(f.id) ?? cliId(),
    broker,
    ...(brokerPassword !== undefined ? { brokerPassword } : {}),
    ...(brokerCa !== undefined ? { brokerCa } : {}),
    ...topicPrefixOption(f.prefix),
  };
}

/** How often a long command says where it is, on stderr, ms. */
export const PROGRESS_EVERY_MS = 1000;

/**
 * Prints `line()` on stderr once a second while `work` runs (nothing with --json: stdout stays the
 * result alone, and stderr quiet for scripts).
 */
export async function withProgress<T>(
  json: boolean | undefined,
  line: (elapsedMs: number) => string | undefined,
  work: Promise<T>,
): Promise<T> {
  const started = performance.now();
  const ticker = json
    ? undefined
    : setInterval(() => {
        const text = line(performance.now() - started);
        if (text !== undefined) process.stderr.write(`${text}\n`);
      }, PROGRESS_EVERY_MS);
  try {
    return await work;
  } finally {
    clearInterval(ticker);
  }
}

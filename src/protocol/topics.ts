/**
 * Topic builders and parsers for wire protocol v1 (docs/protocol.md §2): under the root `R = {prefix}/v1`,
 *   R/presence/{node}   R/intent/{kind}   R/reply/{requester}   R/have/{chunk}/{node}
 * and `R/sync/{node}`, the roster barrier (docs/protocol.md §6, roster-barrier.ts), and the optional
 * records a dashboard reads, `R/status/{node}` and `R/consensus/{node}` (§5.6).
 * Every level built or parsed here is validated, so a topic that parses names well-formed ids.
 */
import { ConfigError } from '../errors.js';
import {
  CHUNK_ID_PATTERN,
  CLIENT_ID_PREFIX,
  DEFAULT_TOPIC_PREFIX,
  KIND_PATTERN,
  NODE_ID_PATTERN,
  PROTOCOL_LEVEL,
} from './constants.js';
import { BadIdError, BadTopicError } from './errors.js';

/** A parsed dameso topic: its family and the ids it names. */
export type ParsedTopic =
  | { type: 'presence'; node: string }
  | { type: 'intent'; kind: string }
  | { type: 'reply'; requester: string }
  | { type: 'have'; chunk: string; node: string }
  | { type: 'sync'; node: string }
  | { type: 'status'; node: string }
  | { type: 'consensus'; node: string };

export type TopicType = ParsedTopic['type'];

/** Builders, filters and the parser for one root. */
export interface Topics {
  /** `{prefix}/v1`. */
  readonly root: string;
  /** `R/#`: everything dameso. */
  readonly all: string;
  presence(node: string): string;
  intent(kind: string): string;
  reply(requester: string): string;
  have(chunk: string, node: string): string;
  /** `R/sync/{node}`: the node's roster barrier record. */
  sync(node: string): string;
  /** `R/status/{node}`: the node's optional status record (limiters, closed intents, reputation). */
  status(node: string): string;
  /** `R/consensus/{node}`: the node's optional consensus announcement. */
  consensus(node: string): string;
  /** `R/presence/+`: the roster (retained). */
  readonly presenceFilter: string;
  /** `R/have/+/+`, or `R/have/{chunk}/+` for who holds one chunk. */
  haveFilter(chunk?: string): string;
  /**
   * Parses `topic`. Returns `undefined` when it is not under this root (not ours); throws
   * BadTopicError / BadIdError when it is under the root but malformed.
   */
  parse(topic: string): ParsedTopic | undefined;
}

// A prefix is one or more plain levels: no wildcards, no empty level, no `$` (MQTT-4.7.2-1: `$`
// topics are the broker's).
const PREFIX_PATTERN = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;

export function assertNodeId(value: unknown, field = 'node'): string {
  if (typeof value !== 'string' || !NODE_ID_PATTERN.test(value))
    throw new BadIdError(field, value, '[A-Za-z0-9_-]{1,64}');
  return value;
}

export function assertKind(value: unknown, field = 'kind'): string {
  if (typeof value !== 'string' || !KIND_PATTERN.test(value)) throw new BadIdError(field, value, '[a-z_]{1,32}');
  return value;
}

export function assertChunkId(value: unknown, field = 'chunk'): string {
  if (typeof value !== 'string' || !CHUNK_ID_PATTERN.test(value))
    throw new BadIdError(field, value, '[0-9a-f]{64} (lowercase hex SHA-256)');
  return value;
}

export function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && NODE_ID_PATTERN.test(value);
}

export function isKind(value: unknown): value is string {
  return typeof value === 'string' && KIND_PATTERN.test(value);
}

/** `{prefix}/v1`; throws ConfigError on a prefix with wildcards, `$`, or empty levels. */
export function rootTopic(prefix: string = DEFAULT_TOPIC_PREFIX): string {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new ConfigError(
      'topicPrefix',
      `"${prefix}" must be levels of [A-Za-z0-9_-] separated by "/" (e.g. "dameso")`,
    );
  }
  return `${prefix}/${PROTOCOL_LEVEL}`;
}

/** Topic builders, filters and parser for the root `{prefix}/v1` (default prefix `dameso`). */
export function createTopics(prefix: string = DEFAULT_TOPIC_PREFIX): Topics {
  const root = rootTopic(prefix);
  const rootSlash = `${root}/`;
  return {
    root,
    all: `${root}/#`,
    presence: (node) => `${root}/presence/${assertNodeId(node)}`,
    intent: (kind) => `${root}/intent/${assertKind(kind)}`,
    reply: (requester) => `${root}/reply/${assertNodeId(requester, 'requester')}`,
    have: (chunk, node) => `${root}/have/${assertChunkId(chunk)}/${assertNodeId(node)}`,
    sync: (node) => `${root}/sync/${assertNodeId(node)}`,
    status: (node) => `${root}/status/${assertNodeId(node)}`,
    consensus: (node) => `${root}/consensus/${assertNodeId(node)}`,
    presenceFilter: `${root}/presence/+`,
    haveFilter: (chunk) => `${root}/have/${chunk === undefined ? '+' : assertChunkId(chunk)}/+`,
    parse(topic) {
      if (!topic.startsWith(rootSlash)) return undefined;
      return parseLevels(topic, topic.slice(rootSlash.length).split('/'));
    },
  };
}

/** Parses a topic under `root` (see Topics.parse). */
export function parseTopic(topic: string, root: string = rootTopic()): ParsedTopic | undefined {
  if (!topic.startsWith(`${root}/`)) return undefined;
  return parseLevels(topic, topic.slice(root.length + 1).split('/'));
}

function parseLevels(topic: string, levels: string[]): ParsedTopic {
  const [family, a, b] = levels;
  const arity = family === 'have' ? 3 : 2;
  if (levels.length !== arity) {
    throw new BadTopicError(
      topic,
      'is not a v1 topic (presence/{node}, intent/{kind}, reply/{node}, have/{chunk}/{node}, sync/{node}, ' +
        'status/{node}, consensus/{node})',
    );
  }
  switch (family) {
    case 'presence':
      return { type: 'presence', node: assertNodeId(a) };
    case 'intent':
      return { type: 'intent', kind: assertKind(a) };
    case 'reply':
      return { type: 'reply', requester: assertNodeId(a, 'requester') };
    case 'have':
      return { type: 'have', chunk: assertChunkId(a), node: assertNodeId(b) };
    case 'sync':
      return { type: 'sync', node: assertNodeId(a) };
    case 'status':
      return { type: 'status', node: assertNodeId(a) };
    case 'consensus':
      return { type: 'consensus', node: assertNodeId(a) };
    default:
      throw new BadTopicError(topic, `has unknown family "${String(family).slice(0, 32)}"`);
  }
}

/**
 * `parseTopic` for one root, remembering what each topic string parsed to: a fleet publishes on a
 * few hundred topics over and over, and the broker and every receiver parse each one per message.
 * Topics that do not parse are never remembered (they throw again, at the same cost as before);
 * at `maxEntries` the memory is emptied and refilled, so a flood of distinct topics costs only
 * the misses it causes. Returned objects are shared: callers must not change them.
 */
export function createTopicParser(root: string, maxEntries = 4096): (topic: string) => ParsedTopic | undefined {
  const rootSlash = `${root}/`;
  const known = new Map<string, ParsedTopic | null>();
  return (topic) => {
    const hit = known.get(topic);
    if (hit !== undefined) return hit ?? undefined;
    const parsed = topic.startsWith(rootSlash) ? parseLevels(topic, topic.slice(rootSlash.length).split('/')) : null;
    if (known.size >= maxEntries) known.clear();
    known.set(topic, parsed);
    return parsed ?? undefined;
  };
}

/** The MQTT client id a node connects with: `dameso.{node}` (see CLIENT_ID_PREFIX). */
export function clientIdForNode(node: string): string {
  return `${CLIENT_ID_PREFIX}${assertNodeId(node)}`;
}

/** The node a client id speaks for, or `undefined` when it does not follow `dameso.{node}`. */
export function nodeIdFromClientId(clientId: string): string | undefined {
  if (!clientId.startsWith(CLIENT_ID_PREFIX)) return undefined;
  const node = clientId.slice(CLIENT_ID_PREFIX.length);
  return isNodeId(node) ? node : undefined;
}

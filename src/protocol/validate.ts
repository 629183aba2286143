/**
 * THE one place that decides what is well-formed on the wire (docs/protocol.md).
 * Each validator takes the raw payload bytes and the ids parsed from the topic, and returns the
 * typed envelope or throws a WireError with a stable code:
 *   DAMESO_TOO_LARGE (> MAX_PAYLOAD_BYTES), DAMESO_BAD_CBOR, DAMESO_BAD_VERSION (v ≠ 1),
 *   DAMESO_BAD_ENVELOPE (missing/mistyped field, named), DAMESO_BAD_ID,
 *   DAMESO_TOPIC_MISMATCH (payload names another node/kind/chunk than its topic: spoofing).
 * Unknown extra fields are kept (forward compatibility); known fields are checked strictly.
 * Order of checks is fixed (size, CBOR, map, version, fields, topic) so a payload gets one code.
 */

import { decode } from '../cbor/index.js';
import {
  MAX_CONSENSUS_CELLS,
  MAX_DEADLINE_MS,
  MAX_INTENT_ID_CHARS,
  MAX_PAYLOAD_BYTES,
  MAX_ROLES,
  MAX_STATUS_CLOSED,
  MAX_STATUS_PEERS,
  MAX_SUBJECT_CHARS,
  MAX_TO_NODES,
} from './constants.js';
import { BadEnvelopeError, BadIdError, BadVersionError, TooLargeError, TopicMismatchError } from './errors.js';
import { assertChunkId, assertKind, assertNodeId, type ParsedTopic, parseTopic } from './topics.js';
import type {
  ConsensusEnvelope,
  HaveEnvelope,
  IntentEnvelope,
  NoReason,
  PresenceEnvelope,
  ReplyEnvelope,
  StatusEnvelope,
  SyncEnvelope,
} from './types.js';
import { LIMITER_NAMES, NO_REASONS, PROTOCOL_VERSION } from './types.js';

type Fields = Record<string, unknown>;

/** Size, CBOR, map and version checks shared by every family. */
export function decodeEnvelope(payload: Uint8Array, maxBytes: number = MAX_PAYLOAD_BYTES): Fields {
  if (payload.length > maxBytes) throw new TooLargeError(payload.length, maxBytes);
  const value = decode(payload);
  if (!isPlainObject(value)) throw new BadEnvelopeError('(root)', 'must be a CBOR map');
  if (!('v' in value)) throw new BadEnvelopeError('v', 'is missing');
  if (value.v !== PROTOCOL_VERSION) throw new BadVersionError(value.v);
  return value;
}

/** `R/presence/{node}`: `{v:1, node, session, epoch?, state, roles, t, caps?}`. */
export function validatePresence(payload: Uint8Array, topic: { node: string }): PresenceEnvelope {
  return checkPresence(decodeEnvelope(payload), topic);
}

/** `R/intent/{kind}`: `{v:1, id, from, session, epoch?, kind, t, deadline, subject?, to?, body?}`. */
export function validateIntent(payload: Uint8Array, topic: { kind: string }): IntentEnvelope {
  return checkIntent(decodeEnvelope(payload), topic);
}

/** `R/reply/{requester}`: `{v:1, id, from, session, epoch?, r, reason?, retry?, data?, lim?}`. */
export function validateReply(payload: Uint8Array, topic: { requester: string }): ReplyEnvelope {
  return checkReply(decodeEnvelope(payload), topic);
}

/**
 * `R/have/{chunk}/{node}`: `{v:1, node, chunk, size, t}`. Returns `null` for an empty payload,
 * which withdraws the retained record (docs/protocol.md §5.4).
 */
export function validateHave(payload: Uint8Array, topic: { chunk: string; node: string }): HaveEnvelope | null {
  if (payload.length === 0) return null;
  return checkHave(decodeEnvelope(payload), topic);
}

/**
 * `R/sync/{node}`: `{v:1, node, nonce, t}`. Returns `null` for an empty payload (the record
 * cleared).
 */
export function validateSync(payload: Uint8Array, topic: { node: string }): SyncEnvelope | null {
  if (payload.length === 0) return null;
  return checkSync(decodeEnvelope(payload), topic);
}

/** `R/status/{node}` (§5.6). Returns `null` for an empty payload (the record cleared). */
export function validateStatus(payload: Uint8Array, topic: { node: string }): StatusEnvelope | null {
  if (payload.length === 0) return null;
  return checkStatus(decodeEnvelope(payload), topic);
}

/** `R/consensus/{node}` (§5.6). Returns `null` for an empty payload (the record cleared). */
export function validateConsensus(payload: Uint8Array, topic: { node: string }): ConsensusEnvelope | null {
  if (payload.length === 0) return null;
  return checkConsensus(decodeEnvelope(payload), topic);
}

/** A validated message of any family. `envelope` is `null` only for an empty retained payload. */
export type ValidatedMessage =
  | { type: 'presence'; topic: Extract<ParsedTopic, { type: 'presence' }>; envelope: PresenceEnvelope }
  | { type: 'intent'; topic: Extract<ParsedTopic, { type: 'intent' }>; envelope: IntentEnvelope }
  | { type: 'reply'; topic: Extract<ParsedTopic, { type: 'reply' }>; envelope: ReplyEnvelope }
  | { type: 'have'; topic: Extract<ParsedTopic, { type: 'have' }>; envelope: HaveEnvelope | null }
  | { type: 'sync'; topic: Extract<ParsedTopic, { type: 'sync' }>; envelope: SyncEnvelope | null }
  | { type: 'status'; topic: Extract<ParsedTopic, { type: 'status' }>; envelope: StatusEnvelope | null }
  | { type: 'consensus'; topic: Extract<ParsedTopic, { type: 'consensus' }>; envelope: ConsensusEnvelope | null };

/**
 * Parses the topic and validates the payload for its family: the single entry point for a
 * dispatcher. Returns `undefined` for topics outside `root`; throws a WireError otherwise.
 */
export function validateMessage(topic: string, payload: Uint8Array, root?: string): ValidatedMessage | undefined {
  const parsed = parseTopic(topic, root);
  return parsed === undefined ? undefined : validateParsed(parsed, payload);
}

/** Validates the payload for an already parsed topic (callers that cache topic parsing). */
export function validateParsed(parsed: ParsedTopic, payload: Uint8Array): ValidatedMessage {
  switch (parsed.type) {
    case 'presence':
      return { type: 'presence', topic: parsed, envelope: validatePresence(payload, parsed) };
    case 'intent':
      return { type: 'intent', topic: parsed, envelope: validateIntent(payload, parsed) };
    case 'reply':
      return { type: 'reply', topic: parsed, envelope: validateReply(payload, parsed) };
    case 'have':
      return { type: 'have', topic: parsed, envelope: validateHave(payload, parsed) };
    case 'sync':
      return { type: 'sync', topic: parsed, envelope: validateSync(payload, parsed) };
    case 'status':
      return { type: 'status', topic: parsed, envelope: validateStatus(payload, parsed) };
    case 'consensus':
      return { type: 'consensus', topic: parsed, envelope: validateConsensus(payload, parsed) };
  }
}

// ---- field checks on decoded maps (exported for senders that want to check before publishing) --

export function checkPresence(m: Fields, topic: { node: string }): PresenceEnvelope {
  const node = assertNodeId(required(m, 'node'), 'node');
  session(m);
  epoch(m);
  const state = required(m, 'state');
  if (state !== 'online' && state !== 'offline') throw new BadEnvelopeError('state', 'must be "online" or "offline"');
  const roles = required(m, 'roles');
  if (!Array.isArray(roles) || roles.length > MAX_ROLES) {
    throw new BadEnvelopeError('roles', `must be an array of at most ${MAX_ROLES} roles`);
  }
  for (const role of roles) assertKind(role, 'roles[]');
  time(m, 't');
  if (m.caps !== undefined && !isPlainObject(m.caps)) throw new BadEnvelopeError('caps', 'must be a map');
  if (node !== topic.node) throw new TopicMismatchError('node', node, topic.node);
  return m as unknown as PresenceEnvelope;
}

export function checkIntent(m: Fields, topic: { kind: string }): IntentEnvelope {
  intentId(m);
  assertNodeId(required(m, 'from'), 'from');
  session(m);
  epoch(m);
  const kind = assertKind(required(m, 'kind'), 'kind');
  time(m, 't');
  const deadline = required(m, 'deadline');
  if (typeof deadline !== 'number' || !Number.isFinite(deadline) || deadline <= 0 || deadline > MAX_DEADLINE_MS) {
    throw new BadEnvelopeError('deadline', `must be ms after receipt in (0, ${MAX_DEADLINE_MS}]`);
  }
  if (m.subject !== undefined && (typeof m.subject !== 'string' || m.subject.length > MAX_SUBJECT_CHARS)) {
    throw new BadEnvelopeError('subject', `must be text of at most ${MAX_SUBJECT_CHARS} characters`);
  }
  if (m.to !== undefined) {
    if (!Array.isArray(m.to) || m.to.length > MAX_TO_NODES) {
      throw new BadEnvelopeError('to', `must be an array of at most ${MAX_TO_NODES} node ids`);
    }
    for (const node of m.to) assertNodeId(node, 'to[]');
  }
  if (kind !== topic.kind) throw new TopicMismatchError('kind', kind, topic.kind);
  return m as unknown as IntentEnvelope;
}

export function checkReply(m: Fields, _topic: { requester: string }): ReplyEnvelope {
  intentId(m);
  assertNodeId(required(m, 'from'), 'from');
  session(m);
  epoch(m);
  const r = required(m, 'r');
  if (r !== 'yes' && r !== 'no') throw new BadEnvelopeError('r', 'must be "yes" or "no"');
  if (m.reason !== undefined && !NO_REASONS.includes(m.reason as NoReason)) {
    throw new BadEnvelopeError('reason', `must be one of ${NO_REASONS.join(', ')}`);
  }
  if (m.retry !== undefined && !(typeof m.retry === 'number' && Number.isFinite(m.retry) && m.retry >= 0)) {
    throw new BadEnvelopeError('retry', 'must be a non-negative number of ms');
  }
  if (m.lim !== undefined) limiterValues(m.lim);
  // The requester in the topic is whoever declared; `from` is the responder, so no topic check here.
  return m as unknown as ReplyEnvelope;
}

export function checkHave(m: Fields, topic: { chunk: string; node: string }): HaveEnvelope {
  const node = assertNodeId(required(m, 'node'), 'node');
  const chunk = assertChunkId(required(m, 'chunk'), 'chunk');
  const size = required(m, 'size');
  if (!Number.isSafeInteger(size) || (size as number) < 0) throw new BadEnvelopeError('size', 'must be a byte count');
  time(m, 't');
  if (node !== topic.node) throw new TopicMismatchError('node', node, topic.node);
  if (chunk !== topic.chunk) throw new TopicMismatchError('chunk', chunk, topic.chunk);
  return m as unknown as HaveEnvelope;
}

export function checkSync(m: Fields, topic: { node: string }): SyncEnvelope {
  const node = assertNodeId(required(m, 'node'), 'node');
  const nonce = required(m, 'nonce');
  if (typeof nonce !== 'string' || nonce.length === 0 || nonce.length > MAX_INTENT_ID_CHARS) {
    throw new BadIdError('nonce', nonce, `text of 1..${MAX_INTENT_ID_CHARS} characters`);
  }
  time(m, 't');
  if (node !== topic.node) throw new TopicMismatchError('node', node, topic.node);
  return m as unknown as SyncEnvelope;
}

/** The fields every node-owned record carries (status, consensus): its node, session, epoch, time. */
function nodeRecord(m: Fields, topic: { node: string }): void {
  const node = assertNodeId(required(m, 'node'), 'node');
  session(m);
  epoch(m);
  time(m, 't');
  if (node !== topic.node) throw new TopicMismatchError('node', node, topic.node);
}

export function checkStatus(m: Fields, topic: { node: string }): StatusEnvelope {
  nodeRecord(m, topic);
  shortText(m, 'board');
  shortText(m, 'busy');
  if (m.lim !== undefined) limiterValues(m.lim);
  if (m.closed !== undefined) {
    if (!Array.isArray(m.closed) || m.closed.length > MAX_STATUS_CLOSED) {
      throw new BadEnvelopeError('closed', `must be an array of at most ${MAX_STATUS_CLOSED} summaries`);
    }
    for (const c of m.closed) closedSummary(c);
  }
  if (m.rep !== undefined) {
    if (!isPlainObject(m.rep) || Object.keys(m.rep).length > MAX_STATUS_PEERS) {
      throw new BadEnvelopeError('rep', `must be a map of at most ${MAX_STATUS_PEERS} node ids to [0,1]`);
    }
    for (const [peer, score] of Object.entries(m.rep)) {
      assertNodeId(peer, 'rep{}');
      if (!unit(score)) throw new BadEnvelopeError(`rep.${peer}`, 'must be a number in [0,1]');
    }
  }
  return m as unknown as StatusEnvelope;
}

export function checkConsensus(m: Fields, topic: { node: string }): ConsensusEnvelope {
  nodeRecord(m, topic);
  const cells = required(m, 'cells');
  if (!Array.isArray(cells) || cells.length > MAX_CONSENSUS_CELLS) {
    throw new BadEnvelopeError('cells', `must be an array of at most ${MAX_CONSENSUS_CELLS} cells`);
  }
  for (const c of cells) {
    if (!isPlainObject(c)) throw new BadEnvelopeError('cells[]', 'must be a map');
    if (typeof c.cell !== 'string' || !/^[0-9b-hjkmnp-z]{1,12}$/.test(c.cell)) {
      throw new BadEnvelopeError('cells[].cell', 'must be a geohash of 1..12 characters');
    }
    if (typeof c.metric !== 'string' || c.metric.length === 0 || c.metric.length > 64) {
      throw new BadEnvelopeError('cells[].metric', 'must be text of 1..64 characters');
    }
    for (const f of ['value', 'spread', 't']) {
      if (typeof c[f] !== 'number' || !Number.isFinite(c[f]))
        throw new BadEnvelopeError(`cells[].${f}`, 'must be a number');
    }
    if (!Number.isSafeInteger(c.n) || (c.n as number) < 0) throw new BadEnvelopeError('cells[].n', 'must be a count');
    if (c.low !== undefined && c.low !== true) throw new BadEnvelopeError('cells[].low', 'must be true when present');
  }
  return m as unknown as ConsensusEnvelope;
}

function closedSummary(c: unknown): void {
  if (!isPlainObject(c)) throw new BadEnvelopeError('closed[]', 'must be a map');
  intentId(c);
  assertKind(c.kind, 'closed[].kind');
  if (typeof c.ms !== 'number' || !(c.ms >= 0)) throw new BadEnvelopeError('closed[].ms', 'must be ms');
  for (const f of ['yes', 'silence', 'offline']) {
    if (!Number.isSafeInteger(c[f]) || (c[f] as number) < 0)
      throw new BadEnvelopeError(`closed[].${f}`, 'must be a count');
  }
  if (!isPlainObject(c.no)) throw new BadEnvelopeError('closed[].no', 'must be a map of reason to count');
  for (const [reason, n] of Object.entries(c.no)) {
    if (!NO_REASONS.includes(reason as NoReason) || !Number.isSafeInteger(n) || (n as number) < 0) {
      throw new BadEnvelopeError('closed[].no', `must map reasons (${NO_REASONS.join(', ')}) to counts`);
    }
  }
}

function limiterValues(lim: unknown): void {
  if (!isPlainObject(lim)) throw new BadEnvelopeError('lim', 'must be a map of limiter values');
  for (const key of LIMITER_NAMES) {
    if (!unit(lim[key])) throw new BadEnvelopeError(`lim.${key}`, 'must be a number in [0,1]');
  }
}

const unit = (value: unknown): boolean => typeof value === 'number' && value >= 0 && value <= 1;

function shortText(m: Fields, field: string): void {
  const value = m[field];
  if (value !== undefined && (typeof value !== 'string' || value.length > 64)) {
    throw new BadEnvelopeError(field, 'must be text of at most 64 characters');
  }
}

function required(m: Fields, field: string): unknown {
  const value = m[field];
  if (value === undefined) throw new BadEnvelopeError(field, 'is missing');
  return value;
}

function session(m: Fields): void {
  const value = required(m, 'session');
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new BadEnvelopeError('session', 'must be a non-negative integer');
  }
}

/** Optional: a record without it is of epoch 0 (protocol v1 peers). */
function epoch(m: Fields): void {
  const value = m.epoch;
  if (value !== undefined && (!Number.isSafeInteger(value) || (value as number) < 0)) {
    throw new BadEnvelopeError('epoch', 'must be a non-negative integer');
  }
}

function time(m: Fields, field: string): void {
  const value = required(m, field);
  // ms since the epoch by the sender's clock: may be wrong (no RTC), but must be a number.
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new BadEnvelopeError(field, 'must be a non-negative number of ms since the epoch');
  }
}

function intentId(m: Fields): void {
  const id = required(m, 'id');
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_INTENT_ID_CHARS) {
    throw new BadIdError('id', id, `text of 1..${MAX_INTENT_ID_CHARS} characters`);
  }
}

export function isPlainObject(value: unknown): value is Fields {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The broker's publish check on `R/#` (R = `{prefix}/v1`): what reaches the fleet is well-formed,
 * said by the node it claims to come from, and not a replay of an older session. Pure: it takes the
 * publisher's client id, the topic, the payload and whether it is a Will, and returns a verdict; the
 * host counts and acts on it. Everything outside R passes untouched (other applications share brokers).
 *
 * A node's session belongs to its connection (protocol/incarnation.ts): a presence record of node N
 * is taken only from the client `dameso.{N}` (or its Will); what N's own live connection says is
 * believed at once, so a replaced board (new epoch, session 1) rejoins; anything else about N (a
 * Will, which may be the late one of an old board, or an intent or reply relayed by another client)
 * must be of N's known epoch and not of an older session.
 *
 * What is well-formed is decided by src/protocol/validate.ts, never here.
 */
import {
  CBOR_REJECT_REASONS,
  createTopicParser,
  epochOf,
  isStaleSession,
  isWireError,
  nodeIdFromClientId,
  type ParsedTopic,
  rootTopic,
  type ValidatedMessage,
  validateParsed,
  type WireRejectReason,
} from '../src/protocol/index.js';
import { MAX_REMEMBERED_CLIENT_IDS, MAX_REMEMBERED_TOPICS, MAX_TRACKED_NODES } from './constants.js';

/**
 * Why a publish was dropped: a wire rejection (see protocol/errors.ts; the `cbor_*` reasons come
 * from the wire scan, src/cbor/scan.ts), or
 * `spoofed` — a client named `dameso.{node}` speaking for another node (presence/will, `from`, have,
 *   sync), or any other client publishing or clearing a node's presence (even without auth);
 * `stale_session` — not from the node's own live connection, and of another epoch than, or an
 *   older session of, the node's latest online presence seen by this broker (a late Will of a
 *   replaced connection would otherwise overwrite the retained online record).
 */
export type DropReason = WireRejectReason | 'spoofed' | 'stale_session';

export const DROP_REASONS: readonly DropReason[] = [
  'bad_cbor',
  ...CBOR_REJECT_REASONS,
  'bad_envelope',
  'too_large',
  'bad_id',
  'topic_mismatch',
  'bad_version',
  'bad_topic',
  'spoofed',
  'stale_session',
];

export type Verdict =
  | { ok: true; dameso: false }
  | { ok: true; dameso: true; message: ValidatedMessage | EmptyRetained; stripRetain: boolean }
  | { ok: false; reason: DropReason; detail: string };

/** An empty payload on a presence, have or sync topic: clears the retained record. */
export interface EmptyRetained {
  type: 'clear';
  topic: ParsedTopic;
}

export interface EnvelopeCheck {
  readonly root: string;
  /**
   * `clientId` is null for a Will Aedes publishes after its client is gone; `will` marks a Will
   * published in the name of a client that closed (default: `clientId === null`).
   */
  check(clientId: string | null, topic: string, payload: Uint8Array, will?: boolean): Verdict;
  /** Nodes whose latest session is remembered (bounded by MAX_TRACKED_NODES). */
  trackedNodes(): number;
}

/** A node's latest online presence, as this broker believes it. */
interface Incarnation {
  epoch: number;
  session: number;
}

/** Every publish outside the root gets this one verdict (nothing to allocate per message). */
const FOREIGN: Verdict = Object.freeze({ ok: true, dameso: false });

export function createEnvelopeCheck(options: { topicPrefix?: string; maxTrackedNodes?: number } = {}): EnvelopeCheck {
  const root = rootTopic(options.topicPrefix);
  const maxTracked = options.maxTrackedNodes ?? MAX_TRACKED_NODES;
  // node -> latest online (epoch, session); Map keeps insertion order, so the first key is the oldest.
  const sessions = new Map<string, Incarnation>();
  // Topics and client ids repeat on every publish: each is parsed once, then looked up.
  const parseTopic = createTopicParser(root, MAX_REMEMBERED_TOPICS);
  const boundNodes = new Map<string, string | null>();

  /** The node a `dameso.{node}` client speaks for; undefined for a Will (null) or another client. */
  const boundNode = (clientId: string | null): string | undefined => {
    if (clientId === null) return undefined;
    let node = boundNodes.get(clientId);
    if (node === undefined) {
      node = nodeIdFromClientId(clientId) ?? null;
      if (boundNodes.size >= MAX_REMEMBERED_CLIENT_IDS) boundNodes.clear();
      boundNodes.set(clientId, node);
    }
    return node ?? undefined;
  };

  const remember = (node: string, at: Incarnation): void => {
    sessions.delete(node);
    sessions.set(node, at);
    if (sessions.size > maxTracked) sessions.delete(sessions.keys().next().value as string);
  };

  const drop = (reason: DropReason, detail: string): Verdict => ({ ok: false, reason, detail });

  return {
    root,
    trackedNodes: () => sessions.size,
    check(clientId, topic, payload, will = clientId === null) {
      const bound = boundNode(clientId);
      let message: ValidatedMessage;
      try {
        const parsed = parseTopic(topic);
        if (parsed === undefined) return FOREIGN;
        if (payload.length === 0 && parsed.type !== 'intent' && parsed.type !== 'reply') {
          return clearVerdict(parsed, clientId, bound);
        }
        message = validateParsed(parsed, payload);
      } catch (err) {
        if (isWireError(err)) return drop(err.reason, err.message);
        throw err;
      }

      const speaker = speakerOf(message);
      // Presence only from the node's own client id, whoever else connects (with or without auth).
      const heldToClient = bound !== undefined || (nodeOwned(message.type) && clientId !== null);
      if (heldToClient && speaker !== undefined && speaker !== bound) {
        return drop('spoofed', `client ${clientId} published as ${speaker} on ${topic}`);
      }
      if (message.type === 'presence' || message.type === 'intent' || message.type === 'reply') {
        const env = message.envelope;
        const node = message.type === 'presence' ? message.envelope.node : (env as { from: string }).from;
        const at: Incarnation = { epoch: epochOf(env), session: env.session };
        const known = sessions.get(node);
        const ownConnection = !will && bound === node;
        if (!ownConnection && known !== undefined && isStaleSession(known, at)) {
          return drop(
            'stale_session',
            `${node} epoch ${at.epoch} session ${at.session}, current epoch ${known.epoch} session ${known.session}`,
          );
        }
        if (message.type === 'presence' && message.envelope.state === 'online') remember(node, at);
      }
      // Intents and replies are QoS 0 and never retained (docs/protocol.md §2): a retained intent would be
      // replayed to every node that subscribes, forever.
      const stripRetain = message.type === 'intent' || message.type === 'reply';
      return { ok: true, dameso: true, message, stripRetain };
    },
  };
}

/**
 * An empty retained payload clears a record (docs/protocol.md §5.4: withdraws a have). Only its
 * owner may.
 */
function clearVerdict(
  parsed: Exclude<ParsedTopic, { type: 'intent' | 'reply' }>,
  clientId: string | null,
  bound: string | undefined,
): Verdict {
  const heldToClient = bound !== undefined || (nodeOwned(parsed.type) && clientId !== null);
  if (heldToClient && bound !== parsed.node) {
    return { ok: false, reason: 'spoofed', detail: `${clientId} cleared ${parsed.node}'s ${parsed.type}` };
  }
  return { ok: true, dameso: true, message: { type: 'clear', topic: parsed }, stripRetain: false };
}

/**
 * Records only their node's own connection may publish, whoever else connects (with or without
 * auth): a roster, limiter gauges or a map in another node's name would mislead every reader.
 */
const nodeOwned = (type: ParsedTopic['type']): boolean =>
  type === 'presence' || type === 'status' || type === 'consensus';

function speakerOf(message: ValidatedMessage): string | undefined {
  switch (message.type) {
    case 'presence':
    case 'have':
    case 'sync':
    case 'status':
    case 'consensus':
      return message.topic.node;
    case 'intent':
      return message.envelope.from;
    case 'reply':
      return message.envelope.from;
  }
}

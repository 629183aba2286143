/**
 * One MQTT message on the dameso topics → one tap event, decoded and checked by the protocol's
 * own validator (the rules every node applies). A payload that does not pass is a `malformed`
 * event naming its topic and the reason: a tap never throws on what the wire brings.
 */
import { isWireError, validateMessage } from '../protocol/index.js';
import { MAX_TRACKED_INTENTS } from './constants.js';

interface Base {
  /** Wall-clock ms the tap received it. */
  t: number;
  topic: string;
  retained: boolean;
}

export type TapEvent =
  | (Base & { type: 'presence'; from: string; state: 'online' | 'offline'; session: number; roles: string[] })
  | (Base & {
      type: 'intent';
      from: string;
      id: string;
      kind: string;
      session: number;
      deadline: number;
      subject?: string;
      to?: string[];
    })
  | (Base & {
      type: 'reply';
      from: string;
      /** The requester (the reply topic names it). */
      to: string;
      id: string;
      r: 'yes' | 'no';
      reason?: string;
      session: number;
      /** ms since the tap saw the intent; null when it did not see it. */
      elapsedMs: number | null;
    })
  | (Base & { type: 'have'; from: string; chunk: string; size: number | null })
  | (Base & { type: 'sync'; from: string; cleared: boolean })
  | (Base & { type: 'malformed'; reason: string; detail: string });

/** When the tap saw each intent (monotonic ms), bounded: the oldest is forgotten first. */
export class IntentTimes {
  private readonly seen = new Map<string, number>();
  constructor(private readonly max = MAX_TRACKED_INTENTS) {}
  note(id: string, at: number): void {
    if (this.seen.size >= this.max) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    this.seen.set(id, at);
  }
  elapsed(id: string, at: number): number | null {
    const t = this.seen.get(id);
    return t === undefined ? null : Math.round((at - t) * 100) / 100;
  }
}

export interface DecodeContext {
  root: string;
  intents: IntentTimes;
  /** Wall-clock and monotonic ms now. */
  now: number;
  monotonic: number;
}

/** undefined for a topic outside the root (not dameso's). */
export function decodeTap(
  topic: string,
  payload: Uint8Array,
  retained: boolean,
  c: DecodeContext,
): TapEvent | undefined {
  const base = { t: c.now, topic, retained };
  let m: ReturnType<typeof validateMessage>;
  try {
    m = validateMessage(topic, payload, c.root);
  } catch (err) {
    // Whatever a payload does to the decoder, the tap prints a line and goes on.
    const reason = isWireError(err) ? err.reason : 'undecodable';
    return { ...base, type: 'malformed', reason, detail: String((err as Error).message ?? err).slice(0, 200) };
  }
  if (m === undefined) return undefined;
  switch (m.type) {
    case 'presence': {
      const e = m.envelope;
      return { ...base, type: 'presence', from: e.node, state: e.state, session: e.session, roles: e.roles };
    }
    case 'intent': {
      const e = m.envelope;
      c.intents.note(e.id, c.monotonic);
      return {
        ...base,
        type: 'intent',
        from: e.from,
        id: e.id,
        kind: e.kind,
        session: e.session,
        deadline: e.deadline,
        ...(e.subject !== undefined ? { subject: e.subject } : {}),
        ...(e.to !== undefined ? { to: e.to } : {}),
      };
    }
    case 'reply': {
      const e = m.envelope;
      return {
        ...base,
        type: 'reply',
        from: e.from,
        to: m.topic.requester,
        id: e.id,
        r: e.r,
        ...(e.reason !== undefined ? { reason: e.reason } : {}),
        session: e.session,
        elapsedMs: c.intents.elapsed(e.id, c.monotonic),
      };
    }
    case 'have':
      return { ...base, type: 'have', from: m.topic.node, chunk: m.topic.chunk, size: m.envelope?.size ?? null };
    case 'sync':
      return { ...base, type: 'sync', from: m.topic.node, cleared: m.envelope === null };
    case 'status':
    case 'consensus':
      // A dashboard's snapshots (limiter gauges, maps), not traffic between nodes: not shown.
      return undefined;
  }
}

/** Whether an event concerns one of `nodes`: sent by it, or addressed to it (a reply, an intent's `to`). */
export function concerns(e: TapEvent, nodes: ReadonlySet<string>): boolean {
  if (e.type === 'malformed') return false;
  if (nodes.has(e.from)) return true;
  if (e.type === 'reply') return nodes.has(e.to);
  if (e.type === 'intent') return (e.to ?? []).some((n) => nodes.has(n));
  return false;
}

/**
 * The ONE inbound path: every message from the broker is size-checked, decoded and validated by the
 * protocol validator, then handed to the handlers whose filter matches. Bad input is counted by
 * reason, logged once per reason, and dropped; a throwing handler is counted too. Nothing here can
 * crash the node.
 */
import type { Logger } from '../log.js';
import { isWireError, type ParsedTopic, parseTopic, type ValidatedMessage, validateParsed } from '../protocol/index.js';
import { MAX_LOGGED_REASONS, MAX_TOPIC_CACHE } from './constants.js';

/** A presence topic with an empty retained payload: the record was cleared. */
export interface PresenceCleared {
  type: 'presence';
  topic: Extract<ParsedTopic, { type: 'presence' }>;
  envelope: null;
}

export type Message = ValidatedMessage | PresenceCleared;

export interface Inbound {
  topic: string;
  /** Delivered because it was retained (MQTT-3.3.1-8: a retained copy sent on subscribe). */
  retained: boolean;
  /** Payload size, bytes. */
  bytes: number;
  message: Message;
}

export type InboundHandler = (inbound: Inbound) => void;

export interface DispatchStats {
  received: number;
  delivered: number;
  /**
   * Rejections by reason (`bad_cbor`, the `cbor_*` reasons of the wire scan, `bad_envelope`,
   * `too_large`, `bad_id`, `topic_mismatch`, …).
   */
  rejected: Record<string, number>;
  handlerErrors: number;
}

interface Route {
  filter: string;
  levels: string[];
  handler: InboundHandler;
}

/** MQTT-4.7.1: `+` matches one level, `#` (last) matches the rest. */
export function topicMatches(filterLevels: readonly string[], topic: string): boolean {
  const levels = topic.split('/');
  for (let i = 0; i < filterLevels.length; i++) {
    const f = filterLevels[i];
    if (f === '#') return true;
    if (i >= levels.length) return false;
    if (f !== '+' && f !== levels[i]) return false;
  }
  return levels.length === filterLevels.length;
}

/** A topic seen before: parsed once, its matching routes computed once (hot path). */
interface TopicInfo {
  parsed: ParsedTopic;
  routes: Route[];
}

function validate(parsed: ParsedTopic, payload: Uint8Array): Message {
  // An empty retained presence payload clears a record; every other family goes to the validator.
  if (parsed.type === 'presence' && payload.length === 0) return { type: 'presence', topic: parsed, envelope: null };
  return validateParsed(parsed, payload);
}

export class Dispatcher {
  private readonly routes: Route[] = [];
  /** Bounded by MAX_TOPIC_CACHE; cleared whenever the routes change. */
  private readonly topics = new Map<string, TopicInfo>();
  private readonly stats_: DispatchStats = { received: 0, delivered: 0, rejected: {}, handlerErrors: 0 };
  private readonly logged = new Set<string>();

  constructor(
    private readonly root: string,
    private readonly log: Logger,
  ) {}

  add(filter: string, handler: InboundHandler): () => void {
    const route: Route = { filter, levels: filter.split('/'), handler };
    this.routes.push(route);
    this.topics.clear();
    return () => {
      const i = this.routes.indexOf(route);
      if (i >= 0) this.routes.splice(i, 1);
      this.topics.clear();
    };
  }

  filters(): string[] {
    return [...new Set(this.routes.map((r) => r.filter))];
  }

  hasFilter(filter: string): boolean {
    return this.routes.some((r) => r.filter === filter);
  }

  size(): number {
    return this.routes.length;
  }

  stats(): DispatchStats {
    return { ...this.stats_, rejected: { ...this.stats_.rejected } };
  }

  dispatch(topic: string, payload: Uint8Array, retained: boolean): void {
    this.stats_.received++;
    let info = this.topics.get(topic);
    let message: Message;
    try {
      if (info === undefined) {
        const parsed = parseTopic(topic, this.root);
        if (parsed === undefined) {
          this.reject('foreign_topic', topic, undefined);
          return;
        }
        info = { parsed, routes: this.routes.filter((r) => topicMatches(r.levels, topic)) };
        if (this.topics.size < MAX_TOPIC_CACHE) this.topics.set(topic, info);
      }
      message = validate(info.parsed, payload);
    } catch (err) {
      this.reject(isWireError(err) ? err.reason : 'invalid', topic, err);
      return;
    }
    const inbound: Inbound = { topic, retained, bytes: payload.length, message };
    for (const route of info.routes) {
      try {
        route.handler(inbound);
        this.stats_.delivered++;
      } catch (err) {
        this.stats_.handlerErrors++;
        this.logOnce('handler_error', { err, topic }, 'transport: a message handler threw; message dropped');
      }
    }
  }

  private reject(reason: string, topic: string, err: unknown): void {
    this.stats_.rejected[reason] = (this.stats_.rejected[reason] ?? 0) + 1;
    this.logOnce(reason, { err, topic: topic.slice(0, 200), reason }, 'transport: rejected an inbound message');
  }

  private logOnce(key: string, obj: Record<string, unknown>, msg: string): void {
    if (this.logged.has(key) || this.logged.size >= MAX_LOGGED_REASONS) return;
    this.logged.add(key);
    this.log.warn(obj, `${msg} (logged once per reason; see stats)`);
  }
}

/**
 * Wires the declare side and the answer side to the transport: `R/reply/{self}` for replies,
 * `R/intent/{kind}` for every kind this node serves (its roles).
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Roster } from '../presence/index.js';
import { INTENT_QOS, REPLY_QOS } from '../protocol/index.js';
import { recorder, type Series } from '../series/index.js';
import type { Inbound, Transport } from '../transport/index.js';
import { AnswerSide, type AnswerStats } from './answer.js';
import { KIND_ROLES } from './constants.js';
import { DeclareSide, type DeclareStats } from './declare.js';
import { BadDeclarationError } from './errors.js';
import { alwaysYesGate } from './gate.js';
import type { DeclaredIntent, DeclareOptions, Gate, IntentHandler } from './types.js';

export interface IntentsDeps {
  self: string;
  roles: readonly string[];
  transport: Pick<Transport, 'subscribe' | 'send' | 'topics' | 'session' | 'epoch'>;
  roster: Roster;
  series: Pick<Series, 'record'>;
  clock: Clock;
  log: Logger;
  /** Default: always YES with neutral limiter values. */
  gate?: Gate;
  handlers?: readonly IntentHandler[];
  /** Extra kind → role pairs for declaring kinds no local handler serves. */
  kindRoles?: Readonly<Record<string, string>>;
  /** Default `MAX_PENDING_INTENTS`. */
  maxPending?: number;
  /** ms; default `LATE_KEEP_MS`. */
  lateKeepMs?: number;
  /** Default `MAX_IN_FLIGHT_ANSWERS`. */
  maxInFlight?: number;
}

export interface IntentsStats {
  declare: DeclareStats;
  answer: AnswerStats;
}

export interface Intents {
  declare(kind: string, options?: DeclareOptions): DeclaredIntent;
  /** Serve one more kind (subscribes when the node has the handler's role; no-op otherwise). */
  serve(handler: IntentHandler): Promise<void>;
  stats(): IntentsStats;
}

export class IntentService implements Intents {
  private readonly declareSide: DeclareSide;
  private readonly answerSide: AnswerSide;
  private readonly roleOf = new Map<string, string>(Object.entries(KIND_ROLES));
  private readonly offs: Array<() => Promise<void>> = [];
  private started = false;
  private readonly pendingHandlers: IntentHandler[] = [];

  constructor(private readonly deps: IntentsDeps) {
    for (const [k, r] of Object.entries(deps.kindRoles ?? {})) this.roleOf.set(k, r);
    const { transport, clock, log } = deps;
    // One writer for both sides; a series that refuses logs once here (its failure itself is
    // reported by the series' onFailure), not once per intent.
    const record = recorder(deps.series, (err, entry, refusals) => {
      if (refusals === 1) log.error({ err, event: entry.event }, 'intent: could not write to the series');
    });
    this.declareSide = new DeclareSide({
      self: deps.self,
      session: () => transport.session,
      epoch: () => transport.epoch,
      roster: deps.roster,
      publishIntent: (env) => transport.send(transport.topics.intent(env.kind), env, { qos: INTENT_QOS }),
      record,
      kindRoles: (kind) => this.roleOf.get(kind),
      clock,
      log,
      ...(deps.maxPending !== undefined ? { maxPending: deps.maxPending } : {}),
      ...(deps.lateKeepMs !== undefined ? { lateKeepMs: deps.lateKeepMs } : {}),
    });
    this.answerSide = new AnswerSide({
      self: deps.self,
      session: () => transport.session,
      epoch: () => transport.epoch,
      roster: deps.roster,
      gate: deps.gate ?? alwaysYesGate,
      publishReply: (to, env) => transport.send(transport.topics.reply(to), env, { qos: REPLY_QOS }),
      record,
      clock,
      log,
      ...(deps.maxInFlight !== undefined ? { maxInFlight: deps.maxInFlight } : {}),
    });
    for (const h of deps.handlers ?? []) this.pendingHandlers.push(h);
  }

  async start(): Promise<void> {
    const { transport } = this.deps;
    this.declareSide.start();
    this.started = true;
    this.offs.push(
      await transport.subscribe(transport.topics.reply(this.deps.self), (m) => this.onReply(m), { qos: REPLY_QOS }),
    );
    const handlers = this.pendingHandlers.splice(0);
    for (const h of handlers) await this.serve(h);
  }

  async stop(): Promise<void> {
    this.started = false;
    this.declareSide.stop();
    for (const off of this.offs.splice(0)) await off().catch(() => undefined);
  }

  declare(kind: string, options?: DeclareOptions): DeclaredIntent {
    if (options?.to !== undefined && !Array.isArray(options.to))
      throw new BadDeclarationError('`to` must be a list of node ids');
    return this.declareSide.declare(kind, options);
  }

  async serve(handler: IntentHandler): Promise<void> {
    if (!this.roleOf.has(handler.kind)) this.roleOf.set(handler.kind, handler.role);
    if (!this.deps.roles.includes(handler.role)) return; // not my role: I never see this kind
    if (!this.started) {
      this.pendingHandlers.push(handler);
      return;
    }
    const fresh = !this.answerSide.kinds().includes(handler.kind);
    this.answerSide.serve(handler);
    if (!fresh) return;
    const { transport } = this.deps;
    this.offs.push(
      await transport.subscribe(transport.topics.intent(handler.kind), (m) => this.onIntent(m), { qos: INTENT_QOS }),
    );
  }

  stats(): IntentsStats {
    return { declare: this.declareSide.stats(), answer: this.answerSide.stats() };
  }

  private onReply(m: Inbound): void {
    if (m.message.type === 'reply') this.declareSide.onReply(m.message.envelope);
  }

  private onIntent(m: Inbound): void {
    if (m.message.type === 'intent') this.answerSide.onIntent(m.message.envelope, m.bytes);
  }
}

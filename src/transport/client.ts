/**
 * One node's MQTT connection (MQTT 3.1.1, mqtt.js). Owns: TCP_NODELAY on every (re)connect,
 * bounded-backoff reconnect, the session counter (a `session_started` entry is appended durably
 * before each connection attempt, so a session number is never reused, even across a crash), the
 * Will for the current session, the retained records this node owns (republished on every connect,
 * so a broker restarted without persistence gets them back), and the one inbound dispatcher.
 */
import type { Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';
import { clientIdForNode, encode, PRESENCE_QOS, type PresenceEnvelope, type Topics } from '../protocol/index.js';
import type { Series } from '../series/types.js';
import {
  CONNECTION_EVENT,
  type ConnectionChange,
  type ConnectionState,
  type ConnectionStatus,
  lossReason,
} from './connection.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_S,
  DEFAULT_START_TIMEOUT_MS,
  ID_TAKEN_REPEAT_MS,
  MAX_OUTBOX_RECORDS,
  MAX_SUBSCRIPTIONS,
  QUICK_LOSS_MS,
  RECONNECT_MAX_MS,
  RECONNECT_MIN_MS,
  TAKEOVER_LOSSES,
  TAKEOVER_WINDOW_MS,
  TLS_PROBE_TIMEOUT_MS,
  WILL_PROBE_TIMEOUT_MS,
} from './constants.js';
import { Dispatcher, type InboundHandler } from './dispatcher.js';
import {
  BrokerCertificateError,
  BrokerNotAuthorizedError,
  BrokerPrefixMismatchError,
  BrokerTlsMismatchError,
  BrokerUnreachableError,
  IdTakenError,
  isCertificateError,
  NotConnectedError,
  StartAbortedError,
  TooManySubscriptionsError,
  TransportStoppedError,
} from './errors.js';
import { type KeptRecord, Outbox } from './outbox.js';
import { nextSession, SESSION_STARTED } from './session.js';
import { isNotTlsError, speaksTls } from './tls-probe.js';
import type { PublishOptions, Transport, TransportOptions, TransportStats } from './types.js';
import { acceptedWithoutWill } from './will-probe.js';

export class MqttTransport implements Transport {
  readonly id: string;
  readonly topics: Topics;
  private client: MqttClient | undefined;
  private session_ = 0;
  private epoch_ = 0;
  private stopping = false;
  private started = false;
  private failures = 0;
  /** The brokers of `opts.url` (comma-separated), tried in turn; `urlIndex` is the one in use. */
  private readonly urls: readonly string[];
  private urlIndex = 0;
  /** The broker the current mqtt.js client was made for. */
  private clientUrl: string | undefined;
  private reconnectTimer: TimerHandle | undefined;
  /** Set while start() waits: a refused CONNECT ends the wait at once. */
  private failStart: ((err: Error) => void) | undefined;
  /** Monotonic ms of the current connection's CONNACK; undefined while not connected. */
  private connectedAtMs: number | undefined;
  /** Monotonic ms of recent connections the broker closed right after accepting them (bounded). */
  private quickLosses: number[] = [];
  private idTaken_ = false;
  /** The connection that just closed was closed by the broker right after it was accepted. */
  private lastLossQuick = false;
  private idTakenSaidAtMs: number | undefined;
  /** Set while start() waits: abortStart() ends the wait. */
  private abortWaiting: ((err: Error) => void) | undefined;
  /** abortStart() was called: a start() not yet waiting gives up as soon as it would wait. */
  private startAborted = false;
  /** The refusal was logged; again only after a connection succeeded. */
  private refusalLogged = false;
  /** A refusal is being explained (acceptedWithoutWill); later refusals meanwhile wait for it. */
  private probingRefusal = false;
  private readonly dispatcher: Dispatcher;
  /** Retained records this node owns: topic → payload; republished on every connect. */
  private readonly owned = new Map<string, { payload: Buffer; qos: 0 | 1 }>();
  /** Retained changes made while the broker was away, sent in order at the next connect. */
  private readonly outbox: Outbox;
  /** False from a connection's loss until the next one has sent what the outbox kept. */
  private flowing = false;
  /** The outbox's first drop of an outage was logged; again after the next connect. */
  private dropLogged = false;
  private readonly connectListeners = new Set<(session: number) => void>();
  private readonly counters = { connects: 0, attempts: 0, published: 0, publishErrors: 0, forwarded: 0 };
  private readonly series: Pick<Series, 'append' | 'view'>;
  private readonly clock: Clock;
  private readonly log: Logger;
  /** Connection state as `connection()` reports it; changes are logged and recorded once each. */
  private state: ConnectionState = 'connecting';
  private stateSince = 0;
  private lostAtMs = 0;
  private lostReason: string | undefined;
  /** The last error mqtt.js reported on this connection: the reason given when it closes. */
  private lastError: (Error & { code?: unknown }) | undefined;
  /** The backoff delay last logged: one `reconnecting` line per backoff step, none at the cap. */
  private loggedDelayMs: number | undefined;
  private nextTryMs: number | undefined;

  constructor(private readonly opts: TransportOptions) {
    this.id = opts.id;
    this.topics = opts.topics;
    this.series = opts.series;
    this.clock = opts.clock;
    this.log = opts.log;
    this.dispatcher = new Dispatcher(opts.topics.root, opts.log);
    this.urls = brokerUrls(opts.url);
    this.outbox = new Outbox(opts.outboxMaxRecords ?? MAX_OUTBOX_RECORDS);
  }

  /** The broker in use (or tried next). */
  private get url(): string {
    return this.urls[this.urlIndex] ?? this.opts.url;
  }

  get session(): number {
    return this.session_;
  }

  get epoch(): number {
    return this.epoch_;
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  get idTaken(): boolean {
    return this.idTaken_;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    this.setState('connecting');
    const waitMs = this.opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    const first = new Promise<void>((resolve) => {
      const off = this.onConnect(() => {
        off();
        resolve();
      });
    });
    await this.attempt();
    let timer: TimerHandle | undefined;
    const timeout = new Promise<never>((_, reject) => {
      if (waitMs > 0) {
        timer = this.clock.setTimeout(() => reject(new BrokerUnreachableError(this.opts.url, waitMs)), waitMs);
      }
      // Waiting forever (0) waits through refusals too; only abortStart() ends it.
      this.failStart = waitMs > 0 ? reject : undefined;
      this.abortWaiting = reject;
    });
    try {
      if (this.startAborted) throw new StartAbortedError(this.url);
      await Promise.race([first, timeout]);
    } catch (err) {
      await this.stop({ announce: false });
      throw err;
    } finally {
      this.failStart = undefined;
      this.abortWaiting = undefined;
      this.clock.clearTimeout(timer);
    }
  }

  abortStart(): void {
    this.startAborted = true;
    this.abortWaiting?.(new StartAbortedError(this.url));
  }

  /** Publishes the offline record (clean stop: MQTT-3.1.2-10 discards the Will), then disconnects. */
  async stop(options: { announce?: boolean } = {}): Promise<void> {
    if (!this.started) return;
    this.stopping = true;
    this.started = false;
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    if (this.state !== 'connecting') this.record('stopped');
    this.setState('stopped');
    const client = this.client;
    this.client = undefined;
    if (client === undefined) return;
    if (this.announces() && options.announce !== false && client.connected) {
      const topic = this.topics.presence(this.id);
      try {
        await client.publishAsync(topic, encode(this.presence('offline')), { qos: PRESENCE_QOS, retain: true });
      } catch (err) {
        this.log.warn({ err }, 'transport: could not publish offline presence at stop');
      }
    }
    this.dropOutgoing(client);
    await client.endAsync(!client.connected).catch(() => undefined);
  }

  publish(topic: string, envelope: object | null, options: PublishOptions = {}): Promise<void> {
    const client = this.client;
    if (client === undefined) return Promise.reject(new TransportStoppedError('publish'));
    const qos = options.qos ?? 0;
    const payload = envelope === null ? Buffer.alloc(0) : encode(envelope);
    // Presence is the connection's own (birth record at connect, Will at loss): never kept here.
    const owns = options.retain === true && topic !== this.topics.presence(this.id);
    const record: KeptRecord = { topic, payload, qos: qos === 0 ? 0 : 1 };
    if (owns) {
      // This node owns the record: remember it so a restarted broker gets it back on reconnect.
      if (payload.length === 0) this.owned.delete(topic);
      else this.owned.set(topic, { payload, qos: record.qos });
      // Store-and-forward: while away (or until a new connection has sent what was kept, so a newer
      // change is never overtaken by an older one) the change waits in the outbox.
      if (!client.connected || !this.flowing) {
        this.keep(record);
        return Promise.resolve();
      }
    }
    this.counters.published++;
    if (!client.connected) {
      this.counters.publishErrors++;
      return Promise.reject(new NotConnectedError(topic));
    }
    return new Promise((resolve, reject) => {
      client.publish(topic, payload, { qos, retain: options.retain === true }, (err) => {
        if (err) {
          this.counters.publishErrors++;
          if (owns) this.keepIfNewest(record);
          reject(err);
        } else resolve();
      });
    });
  }

  /** Keeps a retained change for the next connect; the first drop at the bound in an outage is logged. */
  private keep(record: KeptRecord): void {
    const dropped = this.outbox.put(record);
    if (dropped === undefined || this.dropLogged) return;
    this.dropLogged = true;
    this.log.warn(
      {
        topic: dropped.topic,
        maxRecords: this.outbox.maxRecords,
        dropped: this.outbox.dropped,
      },
      'transport: outbox full while the broker is away; dropping the oldest kept record',
    );
  }

  /** A retained publish lost with its connection is kept, unless a newer change of its topic came since. */
  private keepIfNewest(record: KeptRecord): void {
    if (this.outbox.has(record.topic)) return;
    const current = this.owned.get(record.topic);
    const newest = record.payload.length === 0 ? current === undefined : current?.payload === record.payload;
    if (newest) this.keep(record);
  }

  send(topic: string, envelope: object, options: PublishOptions = {}): void {
    const client = this.client;
    if (client === undefined || options.retain === true) {
      this.publish(topic, envelope, options).catch((err: unknown) => {
        this.log.debug({ err, topic }, 'transport: publish failed (not connected?)');
      });
      return;
    }
    // Hot path (intents, replies): no promise per message.
    this.counters.published++;
    client.publish(topic, encode(envelope), { qos: options.qos ?? 0, retain: false }, this.onSent);
  }

  private readonly onSent = (err?: Error): void => {
    if (err) this.counters.publishErrors++;
  };

  async subscribe(
    filter: string | readonly string[],
    handler: InboundHandler,
    options: { qos?: 0 | 1 } = {},
  ): Promise<() => Promise<void>> {
    const filters = typeof filter === 'string' ? [filter] : [...filter];
    if (this.dispatcher.size() + filters.length > MAX_SUBSCRIPTIONS)
      throw new TooManySubscriptionsError(MAX_SUBSCRIPTIONS);
    const qos = options.qos ?? 1;
    const fresh = filters.filter((f) => !this.dispatcher.hasFilter(f));
    const offs = filters.map((f) => this.dispatcher.add(f, handler));
    for (const f of filters) this.qosByFilter.set(f, qos);
    // One SUBSCRIBE for all filters, in order (the roster barrier relies on it).
    if (fresh.length > 0 && this.client?.connected) {
      const client = this.client;
      try {
        await client.subscribeAsync(Object.fromEntries(fresh.map((f) => [f, { qos }])));
      } catch (err) {
        // The connection closed before SUBACK (a broker restart, a takeover of the client id): the
        // filters are kept and the next connection subscribes them all (onConnected).
        if (client.connected) throw err;
      }
    }
    return async () => {
      for (const off of offs) off();
      const gone = filters.filter((f) => !this.dispatcher.hasFilter(f));
      for (const f of gone) this.qosByFilter.delete(f);
      if (gone.length > 0 && this.client?.connected) await this.client.unsubscribeAsync(gone).catch(() => undefined);
    };
  }

  onConnect(fn: (session: number) => void): () => void {
    this.connectListeners.add(fn);
    return () => this.connectListeners.delete(fn);
  }

  republishPresence(): void {
    if (!this.announces() || !this.connected) return;
    this.send(this.topics.presence(this.id), this.presence('online'), { qos: PRESENCE_QOS, retain: true });
  }

  connection(): ConnectionStatus {
    return {
      state: this.state,
      broker: this.url,
      since: this.stateSince,
      ...(this.state === 'reconnecting' && this.lostReason !== undefined ? { reason: this.lostReason } : {}),
      ...(this.reconnectTimer !== undefined && this.nextTryMs !== undefined ? { nextTryMs: this.nextTryMs } : {}),
    };
  }

  stats(): TransportStats {
    return {
      ...this.counters,
      session: this.session_,
      connected: this.connected,
      kept: this.outbox.size,
      keptDropped: this.outbox.dropped,
      ...this.dispatcher.stats(),
    };
  }

  private readonly qosByFilter = new Map<string, 0 | 1>();

  private announces(): boolean {
    return this.opts.announce !== false;
  }

  private presence(state: 'online' | 'offline'): PresenceEnvelope {
    const env: PresenceEnvelope = {
      v: 1,
      node: this.id,
      session: this.session_,
      epoch: this.epoch_,
      state,
      roles: [...this.opts.roles],
      t: this.clock.now(),
    };
    if (this.opts.caps !== undefined) env.caps = this.opts.caps;
    return env;
  }

  /** One connection attempt under a fresh, durably recorded session number. */
  private async attempt(): Promise<void> {
    if (this.stopping) return;
    this.counters.attempts++;
    this.lastError = undefined;
    const { session, epoch } = nextSession(this.series, this.opts.drawEpoch);
    await this.series.append({ event: SESSION_STARTED, session, epoch });
    if (this.stopping) return;
    this.session_ = session;
    this.epoch_ = epoch;
    const will = this.announces()
      ? {
          topic: this.topics.presence(this.id),
          payload: encode(this.presence('offline')),
          qos: PRESENCE_QOS,
          retain: true,
        }
      : undefined;
    if (this.client !== undefined && this.clientUrl !== this.url) this.retire(this.client);
    if (this.client === undefined) {
      this.clientUrl = this.url;
      this.client = mqtt.connect(this.url, {
        protocolVersion: 4, // MQTT 3.1.1 (Aedes 1.x has no MQTT 5)
        clientId: clientIdForNode(this.id),
        clean: true,
        keepalive: this.opts.keepaliveS ?? DEFAULT_KEEPALIVE_S,
        connectTimeout: this.opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        reconnectPeriod: 0, // reconnect is ours: bounded backoff and a new session + Will per attempt
        resubscribe: false,
        queueQoSZero: false, // an intent or reply queued across a disconnect would arrive stale
        manualConnect: true,
        ...(this.opts.password !== undefined
          ? { username: this.opts.username ?? this.id, password: this.opts.password }
          : {}),
        ...(will !== undefined ? { will } : {}),
        ...(this.opts.ca !== undefined ? { ca: this.opts.ca } : {}),
      });
      this.wire(this.client);
      this.client.connect();
    } else {
      // mqtt.js sends `options.will` in each CONNECT: the Will carries the current session.
      if (will !== undefined) this.client.options.will = will;
      this.client.reconnect();
    }
  }

  /** With several brokers, the next attempt goes to the next one (a dead broker's nodes move on). */
  private nextBroker(): void {
    if (this.urls.length > 1 && !this.stopping) this.urlIndex = (this.urlIndex + 1) % this.urls.length;
  }

  /** Drops the client of the previous broker: the next attempt connects a new one to another broker. */
  private retire(client: MqttClient): void {
    client.removeAllListeners();
    client.on('error', () => undefined);
    this.dropOutgoing(client);
    client.end(true);
    this.client = undefined;
  }

  private wire(client: MqttClient): void {
    client.on('connect', () => {
      this.connectedAtMs = this.clock.monotonic();
      void this.onConnected(client);
    });
    client.on('close', () => {
      this.flowing = false;
      if (this.connectedAtMs === undefined) this.checkTlsMismatch();
      this.noteLoss();
      this.dropOutgoing(client);
      this.onClosed();
      this.nextBroker();
      this.scheduleReconnect();
    });
    client.on('error', (err) => {
      const code = (err as { code?: unknown }).code;
      if (code === 4 || code === 5) this.onRefused(code);
      else if (isCertificateError(err)) this.onUntrusted(err);
      else if (/^(mqtts|wss):/i.test(this.url) && isNotTlsError(err)) {
        this.sayOnce(new BrokerTlsMismatchError(this.url, false), { code: (err as { code?: unknown }).code });
      } else this.log.debug({ err }, 'transport: connection error');
      this.lastError = err;
    });
    client.on('message', (topic, payload, packet) => this.dispatcher.dispatch(topic, payload, packet.retain));
  }

  /**
   * CONNACK 4/5: the password or the node is not (yet) known to the broker. A start() waiting fails
   * at once; a running node keeps retrying with backoff (the broker may be given the entry and
   * reload it) and says so once per outage, at error.
   */
  private onRefused(returnCode: number): void {
    const err = new BrokerNotAuthorizedError(this.url, this.id, returnCode, this.opts.password !== undefined);
    if (!this.announces() || this.refusalLogged) {
      this.sayOnce(err, { returnCode });
      return;
    }
    // A node with a Will may be refused for the Will alone (another --prefix on the broker): ask
    // the broker once before blaming the password.
    if (this.probingRefusal) return;
    this.probingRefusal = true;
    void acceptedWithoutWill({
      url: this.url,
      clientId: clientIdForNode(this.id),
      ...(this.opts.password !== undefined
        ? { username: this.opts.username ?? this.id, password: this.opts.password }
        : {}),
      ...(this.opts.ca !== undefined ? { ca: this.opts.ca } : {}),
      timeoutMs: WILL_PROBE_TIMEOUT_MS,
    }).then((willOnly) => {
      this.probingRefusal = false;
      if (this.stopping) return;
      this.sayOnce(willOnly ? new BrokerPrefixMismatchError(this.url, this.id, returnCode, this.topics.root) : err, {
        returnCode,
      });
    });
  }

  /**
   * The broker's certificate did not verify: like a refusal, a start() waiting fails at once; a
   * running node keeps retrying (the broker's certificate or our CA may be fixed) and says so once.
   */
  private onUntrusted(cause: Error & { code?: string }): void {
    const err = new BrokerCertificateError(this.url, cause);
    this.sayOnce(err, { tlsCode: cause.code });
  }

  /**
   * A plain `mqtt://` connection closed before its CONNACK without an error while start() waits:
   * a TLS listener does that to MQTT bytes. Ask the port for a TLS handshake; if it answers, say so.
   */
  private checkTlsMismatch(): void {
    if (this.failStart === undefined || this.lastError !== undefined || !/^mqtt:/i.test(this.url)) return;
    let url: URL;
    try {
      url = new URL(this.url);
    } catch {
      return;
    }
    const port = Number(url.port || 1883);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1'); // [::1] → ::1
    void speaksTls(host, port, TLS_PROBE_TIMEOUT_MS).then((yes) => {
      if (yes) this.sayOnce(new BrokerTlsMismatchError(this.url, true), {});
    });
  }

  /** A start() waiting fails with `err` (its caller says it); a running node logs it once per outage. */
  private sayOnce(err: Error, fields: Record<string, unknown>): void {
    if (this.failStart !== undefined) this.failStart(err);
    else if (!this.refusalLogged) this.log.error(fields, err.message);
    this.refusalLogged = true;
  }

  private async onConnected(client: MqttClient): Promise<void> {
    (client.stream as Partial<Socket>).setNoDelay?.(true); // TCP_NODELAY: docs/design-notes.md "Intents and the wire"
    // While the id is taken, each reconnect waits the longest delay (no tight loop with the other).
    if (!this.idTaken_) this.failures = 0;
    this.refusalLogged = false;
    this.counters.connects++;
    const session = this.session_;
    try {
      const filters = this.dispatcher.filters();
      if (filters.length > 0) {
        await client.subscribeAsync(Object.fromEntries(filters.map((f) => [f, { qos: this.qosByFilter.get(f) ?? 1 }])));
      }
      if (this.announces()) {
        await client.publishAsync(this.topics.presence(this.id), encode(this.presence('online')), {
          qos: PRESENCE_QOS,
          retain: true,
        });
      }
      this.forward(client);
    } catch (err) {
      this.log.warn({ err }, 'transport: setup after connect failed; will retry on reconnect');
      return;
    }
    this.onOnline(session);
    for (const fn of [...this.connectListeners]) fn(session);
  }

  /**
   * Sends what this node owns after a connect: first its retained records that did not change while
   * away (a broker restarted without persistence gets them back), then the changes the outbox kept,
   * oldest first. A change lost with this connection is kept again (keepIfNewest).
   */
  private forward(client: MqttClient): void {
    const kept = this.outbox.take();
    const changed = new Set(kept.map((r) => r.topic));
    for (const [topic, { payload, qos }] of this.owned) {
      if (!changed.has(topic)) client.publish(topic, payload, { qos, retain: true });
    }
    for (const record of kept) {
      this.counters.forwarded++;
      client.publish(record.topic, record.payload, { qos: record.qos, retain: true }, (err) => {
        if (err) this.keepIfNewest(record);
      });
    }
    if (kept.length > 0 || this.dropLogged) {
      this.log.info(
        { forwarded: kept.length, droppedTotal: this.outbox.dropped },
        'transport: sent the records kept while away',
      );
    }
    this.dropLogged = false;
    this.flowing = true;
  }

  /**
   * Fail every QoS 1 publish still awaiting its PUBACK on a connection that closed: with a clean
   * session and our own reconnect, mqtt.js would keep them (and their promises) forever. Retained
   * records this node owns are republished at the next connect anyway.
   */
  private dropOutgoing(client: MqttClient): void {
    for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
  }

  /**
   * A connection closed: if the broker closed it (no error of ours) soon after accepting it, count
   * it; `TAKEOVER_LOSSES` of those within `TAKEOVER_WINDOW_MS` mean another process uses this id.
   * A connection that stayed up `QUICK_LOSS_MS` clears the suspicion.
   */
  private noteLoss(): void {
    const since = this.connectedAtMs;
    this.connectedAtMs = undefined;
    this.lastLossQuick = false;
    if (since === undefined || this.stopping) return;
    const now = this.clock.monotonic();
    if (now - since >= QUICK_LOSS_MS || this.lastError !== undefined) {
      this.quickLosses = [];
      this.idTaken_ = false;
      return;
    }
    this.lastLossQuick = true;
    this.quickLosses = [...this.quickLosses.filter((t) => now - t < TAKEOVER_WINDOW_MS), now].slice(-TAKEOVER_LOSSES);
    if (this.quickLosses.length < TAKEOVER_LOSSES) return;
    this.idTaken_ = true;
    this.failures = 16; // the next delays are the longest
    if (this.idTakenSaidAtMs !== undefined && now - this.idTakenSaidAtMs < ID_TAKEN_REPEAT_MS) return;
    this.idTakenSaidAtMs = now;
    const err = new IdTakenError(this.url, this.id, clientIdForNode(this.id), TAKEOVER_LOSSES, TAKEOVER_WINDOW_MS);
    // One line: the caller that handles it says it, or the log does.
    if (this.opts.onIdTaken !== undefined) this.opts.onIdTaken(err);
    else this.log.error({ code: err.code }, err.message);
  }

  /** The first connect of this transport says `connected`; one after a loss says `back` and how long it was away. */
  private onOnline(session: number): void {
    if (this.stopping) return; // stop() already said `stopped`
    this.loggedDelayMs = undefined;
    if (this.state === 'reconnecting') {
      const awayMs = Math.round(this.clock.monotonic() - this.lostAtMs);
      this.log.info({ session, broker: this.url, awayMs }, 'transport: back');
      this.record('back', { away_ms: awayMs });
    } else if (this.state === 'connecting') {
      this.log.info({ session, broker: this.url }, 'transport: connected');
      this.record('online', { node: this.id, roles: [...this.opts.roles] });
    }
    this.lostReason = undefined;
    this.setState('online');
  }

  /** A connection that was up closed (a failed attempt is no change): said once, at warn. */
  private onClosed(): void {
    if (this.state !== 'online' || this.stopping) return;
    const reason = lossReason(this.lastError);
    this.lostReason = reason;
    this.lostAtMs = this.clock.monotonic();
    this.setState('reconnecting');
    // A connection the broker closed right after accepting it is what a takeover of the id looks
    // like: said once as such (noteLoss) when it repeats, not as a warning per loss.
    const level = this.lastLossQuick ? 'info' : 'warn';
    this.log[level]({ broker: this.url, reason }, 'transport: connection lost');
    this.record('lost', { reason });
  }

  private setState(state: ConnectionState): void {
    if (state === this.state && this.stateSince !== 0) return;
    this.state = state;
    this.stateSince = this.clock.now();
  }

  /** A `connection` entry (not awaited: nobody waits on it, and a failed series is heard elsewhere). */
  private record(change: ConnectionChange, fields: Record<string, unknown> = {}): void {
    this.series
      .append({ event: CONNECTION_EVENT, state: change, broker: this.url, ...fields })
      .catch((err: unknown) => this.log.debug({ err }, 'transport: could not record the connection state'));
  }

  private scheduleReconnect(): void {
    if (this.stopping || !this.started || this.reconnectTimer !== undefined) return;
    const min = this.opts.reconnectMinMs ?? RECONNECT_MIN_MS;
    const max = this.opts.reconnectMaxMs ?? RECONNECT_MAX_MS;
    // The delay grows once per round through the broker list: the next broker is tried at once.
    const delay = Math.min(max, min * 2 ** Math.min(Math.floor(this.failures / this.urls.length), 16));
    this.failures++;
    this.nextTryMs = delay;
    if (delay !== this.loggedDelayMs) {
      // Before the first connection only the first retry is said: a start that cannot reach its
      // broker ends in one error line, not a line per backoff step (the rest at debug).
      const quiet = this.state !== 'reconnecting' && this.loggedDelayMs !== undefined;
      this.loggedDelayMs = delay;
      this.log[quiet ? 'debug' : 'info']({ broker: this.url, delayMs: delay }, 'transport: reconnecting');
    }
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      this.attempt().catch((err: unknown) => {
        this.log.error({ err }, 'transport: reconnect attempt failed');
        this.scheduleReconnect();
      });
    }, delay);
  }
}

/** `mqtt://a:1883,mqtt://b:1883` → each URL (one URL is a list of one). */
export function brokerUrls(list: string): string[] {
  const urls = list
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  return urls.length > 0 ? urls : [list];
}

/**
 * The Aedes host: one Aedes, TCP, TLS, WebSocket and WebSocket-over-TLS listeners, the packet-size
 * guard and the envelope check, with start()/stop() owning every socket. Embedded (a node process
 * creates it) or hosted (`dameso broker`).
 */

import { createRequire } from 'node:module';
import { createSecureContext } from 'node:tls';
import { Aedes, type AedesOptions, type AedesPublishPacket, type Client, type PublishPacket } from 'aedes';
import { systemClock, type TimerHandle } from '../src/clock.js';
import { ConfigError, messageOf } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import { silentLogger } from '../src/log.js';
import { isWireError } from '../src/protocol/errors.js';
import { nodeIdFromClientId, parseTopic, validateMessage } from '../src/protocol/index.js';
import { createAcl, createViewerAcl } from './acl.js';
import {
  type Admission,
  CONNECTION_REFUSALS,
  type ConnectionRefusal,
  createAdmission,
  sourceKey,
  WarnedOnce,
} from './admission.js';
import { AUTH_REFUSALS, type AuthRefusal } from './auth.js';
import { type ConnectionSweep, createConnectionSweep, type SweepClose } from './connection-sweep.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_DROP_COOLDOWN_MS,
  DEFAULT_FANOUT_MAX_AGE_MS,
  DEFAULT_HEARTBEAT_S,
  DEFAULT_HOST,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_IP,
  DEFAULT_MAX_DROPS_PER_WINDOW,
  DEFAULT_MAX_IDLE_S,
  DEFAULT_MAX_PACKET_BYTES,
  DEFAULT_MAX_PENDING_BYTES,
  DEFAULT_MAX_RETAINED_HAVES,
  DEFAULT_PACKET_TIMEOUT_MS,
  DEFAULT_PORT,
  DROP_TOPIC,
  DROP_WINDOW_MS,
  MAX_CONNECT_PACKET_BYTES,
  MAX_WARNED_ADDRESSES,
  WILL_FLUSH_MS,
} from './constants.js';
import { createDropBudget, type DropBudget } from './drop-budget.js';
import { createEnvelopeCheck, DROP_REASONS, type DropReason } from './envelope-check.js';
import { connectionsWithin, readFdLimit } from './fd-limit.js';
import { otherPrefixOf } from './foreign-will.js';
import { createHaveRetention, defaultHaveShare } from './have-retention.js';
import { type PromiseHooks, toAedesHooks } from './hooks.js';
import {
  type AcceptGate,
  type Listener,
  listenSecureWebSocket,
  listenTcp,
  listenTls,
  listenWebSocket,
  type OnTlsFailure,
  type TlsCertificate,
  type TlsListener,
} from './listeners.js';
import { createToNarrowing } from './narrow.js';
import { guardPacketSize, PendingBudget } from './packet-guard.js';
import { type PeerWatch, type StoredWill, startPeerWatch, type WatchedBroker } from './peer-watch.js';
import type {
  BrokerAddress,
  BrokerCluster,
  BrokerHost,
  BrokerHostOptions,
  BrokerLimits,
  BrokerStats,
} from './types.js';

/** A publish stamped with the wall-clock ms after which it is not delivered (aedes-packet keeps the field). */
type Expiring = { messageExpiry?: number };

// aedes-persistence is CommonJS whose types declare an ES default export; load it as CommonJS.
const memoryPersistence = createRequire(import.meta.url)('aedes-persistence') as () => unknown;

export function createBrokerHost(options: BrokerHostOptions = {}): BrokerHost {
  const log: Logger = options.log ?? silentLogger;
  const host = options.host ?? DEFAULT_HOST;
  const maxPacketBytes = options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
  const checkEnvelopes = options.checkEnvelopes ?? true;
  // The ACL leaves the sender of intents and replies (`from`) to the envelope check.
  if (options.auth !== undefined && !checkEnvelopes) {
    throw new ConfigError(
      'check',
      'authentication needs the envelope check: without it any authenticated node could send intents and replies as another (drop --no-check)',
    );
  }
  const onReject = options.onReject ?? 'drop';
  const hooks: PromiseHooks = options.hooks ?? {};
  const allowSys = options.allowSys ?? false;
  // Ports are sticky: after a start on port 0, a later start() listens on the port it got.
  let port = options.port ?? DEFAULT_PORT;
  let wsPort = options.wsPort;
  const tcpHost = options.tcpHost ?? host;
  let tlsPort = options.tls?.port;
  let tlsCertificate: TlsCertificate | undefined = options.tls && { cert: options.tls.cert, key: options.tls.key };
  let tlsListener: TlsListener | undefined;
  let wssPort = options.tls?.wsPort;
  let wssListener: TlsListener | undefined;
  let httpPort = options.http?.port;
  let httpListener: Listener | undefined;
  let pageTls: TlsListener | undefined;

  let broker: Aedes | undefined;
  let listeners: Listener[] = [];
  let address: BrokerAddress | undefined;
  let check = createEnvelopeCheck({ topicPrefix: options.topicPrefix, maxTrackedNodes: options.maxTrackedNodes });
  const badWills = new WeakMap<Client, DropReason>();
  // Clients whose Will is a presence record under another prefix: the prefix, for the refusal's log line.
  const otherPrefixes = new WeakMap<Client, { prefix: string; topic: string }>();
  const logged = new Set<string>();
  const auth = options.auth;
  // With auth, every client is an authenticated node `dameso.{node}`, held to broker/acl.ts.
  const acl = auth === undefined ? undefined : createAcl(options.topicPrefix);
  // Viewers (read-only credentials, a dashboard) publish nothing and subscribe only to what it draws.
  const viewerAcl = createViewerAcl(options.topicPrefix);
  const viewers = new WeakSet<Client>();
  const willTopics = new WeakMap<Client, string>();
  const warned = new Set<string>();
  const narrowing = createToNarrowing();
  const maxRetainedHaves = options.maxRetainedHaves ?? DEFAULT_MAX_RETAINED_HAVES;
  const maxHavesPerNode = options.maxHavesPerNode ?? defaultHaveShare(maxRetainedHaves);
  // What the store keeps outlives a restart only when the store does (injected or clustered).
  const storeOutlivesStart = options.persistence !== undefined || options.cluster !== undefined;
  let haves = createHaveRetention(maxRetainedHaves, maxHavesPerNode);

  const stats: BrokerStats = {
    connections: 0,
    connectionsTotal: 0,
    checked: 0,
    passed: 0,
    dropped: Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>,
    droppedTotal: 0,
    retainStripped: 0,
    retainedHaves: 0,
    havesNotRetained: 0,
    havesOverShare: 0,
    sysDenied: 0,
    willsRefused: 0,
    packetsTooLarge: 0,
    trackedNodes: 0,
    authRefused: Object.fromEntries(AUTH_REFUSALS.map((r) => [r, 0])) as Record<AuthRefusal, number>,
    authRefusedTotal: 0,
    aclDenied: { publish: 0, subscribe: 0 },
    narrowed: 0,
    tlsHandshakeFailures: 0,
    refused: Object.fromEntries(CONNECTION_REFUSALS.map((r) => [r, 0])) as Record<ConnectionRefusal, number>,
    refusedTotal: 0,
    disconnectedForDrops: 0,
    timedOut: { connect: 0, packet: 0, idle: 0 },
    pendingOverBudget: 0,
    pendingBytes: 0,
    staleDeliveries: 0,
    redisOutages: 0,
    redisStalls: 0,
    peersDead: 0,
    deadPeerWills: 0,
    clientsReannounced: 0,
  };
  // Clustered: live publishes carry an expiry (see authorizeForward); peers are watched (peer-watch.ts).
  const fanoutMaxAgeMs = options.fanoutMaxAgeMs ?? DEFAULT_FANOUT_MAX_AGE_MS;
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_S * 1000;
  let peerWatch: PeerWatch | undefined;
  let forgetStoreBack: (() => void) | undefined;
  const peerCounts = { peersDead: 0, willsPublished: 0, clientsReannounced: 0 };
  let budget: PendingBudget | undefined;
  let limits: BrokerLimits | undefined;
  let admission: Admission | undefined;
  let dropBudget: DropBudget | undefined;
  const clock = options.clock ?? systemClock;
  let sweep: ConnectionSweep | undefined;
  const warnedAddresses = new WarnedOnce(MAX_WARNED_ADDRESSES);

  // Runs at accept on every listener, before a byte is read: over a limit, the socket is destroyed.
  const gate: AcceptGate = (socket) => {
    const remote = socket.remoteAddress;
    // Between stop() and the listeners closing there is no admission: nothing new is taken.
    const taken = admission;
    const refusal = taken === undefined ? 'max_connections' : taken.admit(remote);
    if (refusal === undefined) {
      socket.once('close', () => taken?.release(remote));
      return true;
    }
    socket.destroy();
    stats.refused[refusal]++;
    stats.refusedTotal++;
    // Once per address at warn, then at debug: a flood must not flood the log.
    const level = warnedAddresses.first(sourceKey(remote)) ? 'warn' : 'debug';
    if (refusal === 'cooling_down') {
      const coolDownMs = limits?.dropCoolDownMs;
      log[level]({ remote, reason: refusal, coolDownMs }, 'refused connection at accept: its address is cooling down');
      return false;
    }
    const limit = refusal === 'max_connections' ? limits?.maxConnections : limits?.maxConnectionsPerIp;
    log[level]({ remote, reason: refusal, limit }, 'refused connection at accept: connection limit reached');
    return false;
  };

  // Past its drop budget a connection is closed (the caller throws, which makes Aedes close it) and
  // its address cooled down: a client flooding refused payloads stops costing a scan per payload.
  const overDropBudget = (client: Client): boolean => {
    if (client.closed || dropBudget === undefined || !dropBudget.spend(client)) return false;
    stats.disconnectedForDrops++;
    const remote = sourceOf(client);
    admission?.coolDown(remote);
    const level = levelFor(`${client.id}\0drops`);
    log[level](
      { client: client.id, remote, maxDrops: limits?.maxDropsPerWindow, windowMs: DROP_WINDOW_MS },
      'closed connection: too many dropped publishes; its address cools down',
    );
    return true;
  };

  const noteSweepClose = (client: Client, why: SweepClose): void => {
    if (why === 'idle') stats.timedOut.idle++;
    else stats.timedOut.packet++;
    const level = levelFor(`sweep\0${why}`);
    log[level]({ client: client.id, remote: sourceOf(client), reason: why }, 'closed connection: timed out');
    client.conn.destroy();
  };

  // A client's refusals and denials are logged at warn once per kind, then at debug: a node retrying
  // a wrong password every few seconds, or publishing where it may not, must not flood the log. The
  // key never holds the topic (a client could mint new ones to stay at warn); bounded by clearing.
  const levelFor = (key: string): 'warn' | 'debug' => {
    if (warned.has(key)) return 'debug';
    if (warned.size >= 10_000) warned.clear();
    warned.add(key);
    return 'warn';
  };

  // Never the password.
  const noteRefusal = (client: Client, username: string | undefined, reason: string): void => {
    const level = levelFor(`${client.id}\0${reason}`);
    log[level]({ client: client.id, username: username?.slice(0, 64), reason }, 'refused connection');
  };

  const aclDeny = (client: Client, topic: string, action: 'publish' | 'subscribe'): void => {
    stats.aclDenied[action]++;
    const level = levelFor(`${client.id}\0acl\0${action}`);
    log[level]({ client: client.id, topic: topic.slice(0, 200), action }, 'acl: denied');
  };

  // Per peer address, like refusals: a node with the wrong CA retrying every few seconds stays at debug.
  const noteTlsFailure =
    (listener: 'mqtts' | 'wss'): OnTlsFailure =>
    (err, remote) => {
      stats.tlsHandshakeFailures++;
      const level = levelFor(`tls\0${remote}`);
      log[level](
        { listener, remote, code: (err as NodeJS.ErrnoException).code, err: err.message },
        'TLS handshake failed',
      );
    };

  const noteDrop = (reason: DropReason, clientId: string | null, topic: string, detail: string): void => {
    stats.dropped[reason]++;
    stats.droppedTotal++;
    // Logged once per reason at warn (bad input never floods the log), then at debug.
    const level = logged.has(reason) ? 'debug' : 'warn';
    logged.add(reason);
    log[level]({ reason, client: clientId, topic: topic.slice(0, 200), detail }, 'dropped publish on dameso topic');
  };

  // Past the table's bound or its node's share, a new have record is delivered live, not stored.
  let warnedTableFull = false;
  function retainHave(packet: PublishPacket, node: string): void {
    const admission = haves.admit(packet.topic, node);
    if (admission === 'kept') return;
    packet.retain = false; // delivered live, not stored (have-retention.ts)
    stats.havesNotRetained++;
    if (admission === 'over_share') {
      stats.havesOverShare++;
      const level = levelFor(`have-share\0${node}`);
      log[level]({ node, maxHavesPerNode }, "a node's retained have records at its share: its new ones are not stored");
    } else if (!warnedTableFull) {
      warnedTableFull = true;
      log.warn({ maxRetainedHaves }, 'retained have records at their bound: new ones are not stored');
    }
  }

  // Not async: the check decides synchronously, so most publishes cost no promise (see hooks.ts).
  function authorizePublish(client: Client | null, packet: PublishPacket): Promise<void> | undefined {
    // MQTT-4.7.2-1: `$` topics belong to the broker (Aedes' default check, kept).
    if (client !== null && packet.topic.startsWith('$')) throw new Error(`${packet.topic}: $ topics are reserved`);
    if (client !== null && viewers.has(client)) {
      aclDeny(client, packet.topic, 'publish');
      if (onReject === 'disconnect') throw new Error(`dameso: acl: viewer ${client.id} may not publish`);
      packet.topic = DROP_TOPIC;
      packet.retain = false;
      packet.payload = Buffer.alloc(0);
      return hooks.authorizePublish?.(client, packet);
    }
    // A dameso envelope that passed the check already has its sender held to the client's node
    // (presence/have/sync topics, `from` of intents and replies): the publish ACL would repeat it.
    let heldToSender = false;
    if (checkEnvelopes) {
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      // Aedes publishes a Will in the name of its client once that client is closed.
      const verdict = check.check(client?.id ?? null, packet.topic, payload, client === null || client.closed);
      if (verdict.ok && verdict.dameso) {
        heldToSender = true;
        stats.checked++;
        stats.passed++;
        if (verdict.stripRetain && packet.retain) {
          packet.retain = false;
          stats.retainStripped++;
        }
        const message = verdict.message;
        if (message.type === 'intent' && message.envelope.to !== undefined && typeof packet.payload === 'object') {
          narrowing.addressed(packet.payload, message.envelope.to);
        } else if (packet.retain && message.type === 'have') {
          retainHave(packet, message.topic.node);
        } else if (packet.retain && message.type === 'clear' && message.topic.type === 'have') {
          haves.withdraw(packet.topic);
        }
      } else if (!verdict.ok) {
        stats.checked++;
        noteDrop(verdict.reason, client?.id ?? null, packet.topic, verdict.detail);
        if (onReject === 'disconnect') throw new Error(`dameso: ${verdict.reason}: ${verdict.detail}`);
        if (client !== null && overDropBudget(client)) throw new Error(`dameso: ${client.id}: over its drop budget`);
        // MQTT 3.1.1 cannot refuse one PUBLISH without closing the connection (MQTT-3.3.5-2), so the
        // packet is acknowledged as usual and diverted to a topic nobody receives.
        packet.topic = DROP_TOPIC;
        packet.retain = false;
        packet.payload = Buffer.alloc(0);
      }
    }
    if (acl !== undefined && client !== null && !heldToSender && packet.topic !== DROP_TOPIC) {
      const node = nodeIdFromClientId(client.id);
      if (node === undefined || !acl(node, packet.topic, 'publish')) {
        aclDeny(client, packet.topic, 'publish');
        if (onReject === 'disconnect') throw new Error(`dameso: acl: ${client.id} may not publish on ${packet.topic}`);
        packet.topic = DROP_TOPIC;
        packet.retain = false;
        packet.payload = Buffer.alloc(0);
      }
    }
    // Clustered, a live publish expires (aedes-packet carries `messageExpiry` through Redis): one held
    // in Redis' client queue through an outage is dropped at delivery, not delivered long after its
    // sender gave up. Retained records never expire: a later subscriber must still read them.
    if (options.cluster !== undefined && !packet.retain && packet.topic !== DROP_TOPIC) {
      (packet as Expiring).messageExpiry = clock.now() + fanoutMaxAgeMs;
    }
    return hooks.authorizePublish?.(client, packet);
  }

  // Synchronous, per delivery: the intent's `to` narrows its fan-out (narrow.ts).
  function authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    const expiry = (packet as Expiring).messageExpiry;
    if (expiry !== undefined && clock.now() > expiry) {
      stats.staleDeliveries++;
      const level = levelFor('stale-delivery');
      log[level](
        { client: client.id, topic: packet.topic.slice(0, 200), lateMs: clock.now() - expiry, fanoutMaxAgeMs },
        'dropped a delivery older than the fan-out bound (held up by a Redis outage)',
      );
      return null;
    }
    if (narrowing.delivers(client.id, packet.payload)) return packet;
    stats.narrowed++;
    return null;
  }

  // A Will is checked when the client connects, so a node with a spoofed or malformed Will is told
  // at once (CONNACK 5) instead of finding out when it dies. Stale sessions are checked at publish.
  async function preConnect(client: Client, packet: Parameters<NonNullable<PromiseHooks['preConnect']>>[1]) {
    const will = packet.will;
    if (acl !== undefined && will) willTopics.set(client, will.topic);
    if (checkEnvelopes && will) {
      const bound = nodeIdFromClientId(packet.clientId);
      try {
        const payload = typeof will.payload === 'string' ? Buffer.from(will.payload) : will.payload;
        const message = parseTopic(will.topic, check.root) && validateMessage(will.topic, payload, check.root);
        const speaker = message?.type === 'presence' || message?.type === 'have' ? message.topic.node : undefined;
        if (message && message.type !== 'presence') badWills.set(client, 'bad_topic');
        // A presence Will only from the node's own client id, with or without auth.
        else if (speaker !== bound && (bound !== undefined || message !== undefined)) badWills.set(client, 'spoofed');
        const other = message === undefined ? otherPrefixOf(will.topic, check.root, bound) : undefined;
        if (other !== undefined) otherPrefixes.set(client, { prefix: other, topic: will.topic });
      } catch (err) {
        if (!isWireError(err)) throw err;
        badWills.set(client, err.reason);
      }
    }
    return hooks.preConnect ? hooks.preConnect(client, packet) : true;
  }

  /** The peer's address: TCP or TLS socket (a TLSSocket has remoteAddress), or the HTTP request a WebSocket came in on. */
  function sourceOf(client: Client): string | undefined {
    const c = client as unknown as { req?: { socket?: { remoteAddress?: string } }; conn?: { remoteAddress?: string } };
    return c.req?.socket?.remoteAddress ?? c.conn?.remoteAddress;
  }

  async function authenticate(client: Client, username: string | undefined, password: Buffer | undefined) {
    if (auth !== undefined) {
      const verdict = await auth.authenticate(client.id, username, password, sourceOf(client));
      if (!verdict.ok) {
        stats.authRefused[verdict.reason]++;
        stats.authRefusedTotal++;
        noteRefusal(client, username, verdict.reason);
        if (verdict.reason === 'busy' || verdict.reason === 'throttled') {
          // Not a verdict on the password: CONNACK 3 (server unavailable), which a node retries,
          // where 5 would make it give up on its password.
          throw Object.assign(new Error(`authentication ${verdict.reason}`), { returnCode: 3 });
        }
        return false;
      }
      // The Will is published in the node's name later, when nobody can refuse it: check it now.
      const willTopic = willTopics.get(client);
      if (verdict.viewer) {
        if (willTopic !== undefined) {
          aclDeny(client, willTopic, 'publish');
          return false;
        }
        viewers.add(client);
      }
      if (willTopic !== undefined && acl !== undefined && !acl(verdict.node, willTopic, 'publish')) {
        if (otherPrefixes.has(client)) return refuseOtherPrefix(client);
        aclDeny(client, willTopic, 'publish');
        return false;
      }
    }
    const bad = badWills.get(client);
    if (bad !== undefined && otherPrefixes.has(client)) return refuseOtherPrefix(client);
    if (bad !== undefined) {
      stats.willsRefused++;
      log.warn(
        { client: client.id, reason: bad },
        'refused connection: its Will is not a valid presence record for its node',
      );
      return false;
    }
    return hooks.authenticate ? hooks.authenticate(client, username, password) : true;
  }

  /** Refuses a node whose Will is its presence under another prefix, and says so as a prefix mismatch. */
  function refuseOtherPrefix(client: Client): false {
    const { prefix, topic } = otherPrefixes.get(client) ?? { prefix: '?', topic: '?' };
    stats.willsRefused++;
    log.warn(
      { client: client.id, reason: 'prefix_mismatch', will: topic, root: check.root },
      `refused connection: its Will is on ${topic}, under prefix "${prefix}"; this broker's ` +
        `root is ${check.root}: the node's --prefix differs from the broker's`,
    );
    return false;
  }

  /** Clustered: heartbeats, dead peers' Wills, and the own Wills checked when Redis answers again. */
  function watchPeers(created: Aedes, cluster: BrokerCluster): void {
    const publishWill = async (will: StoredWill): Promise<void> => {
      const payload = Buffer.from(will.payload);
      const packet = {
        cmd: 'publish',
        topic: will.topic,
        payload,
        qos: will.qos ?? 0,
        retain: will.retain === true,
        dup: false,
      } as PublishPacket;
      // A node that moved here already announced a newer session: its old Will is no news.
      if (checkEnvelopes) {
        const verdict = check.check(null, packet.topic, payload, true);
        if (!verdict.ok && verdict.reason === 'stale_session') {
          log.debug({ topic: packet.topic.slice(0, 200) }, "a dead broker's Will older than its node's session here");
          return;
        }
      }
      // Checked like a Will of a client of this broker (no client: the envelope check's Will path).
      await authorizePublish(null, packet);
      if (packet.topic === DROP_TOPIC) return;
      await new Promise<void>((resolve) => created.publish(packet, () => resolve()));
    };
    // A gap in the own heartbeats that no lost connection explains is Redis hung: said here, once.
    const onFanoutBack = (gapMs: number): void => {
      const ended = cluster.lastOutageEndMs?.();
      if (ended !== undefined && ended >= clock.monotonic() - gapMs) return; // the outage was said
      stats.redisStalls++;
      log.warn(
        { redis: cluster.describe, durationMs: gapMs, fanoutMaxAgeMs },
        'redis stalled (connections up, nothing fanned out); live messages older than the fan-out bound are dropped',
      );
    };
    peerWatch = startPeerWatch({
      broker: created as unknown as WatchedBroker,
      heartbeatMs,
      clock,
      log,
      publishWill,
      onFanoutBack,
    });
    const watch = peerWatch;
    forgetStoreBack = cluster.onBack?.(() => watch.storeBack());
  }

  /**
   * Closes every client and waits (at most WILL_FLUSH_MS) until their Wills are published: Aedes'
   * close() would shut the fan-out while those publishes still wait on the store, so clients of
   * other brokers would never hear them live.
   */
  async function closeClientsWithWills(b: Aedes): Promise<void> {
    const clients = Object.values((b as unknown as { clients: Record<string, Client> }).clients);
    // Client → its Will's topic; a Will the envelope check refused goes out on DROP_TOPIC instead.
    const waiting = new Map<Client, string>();
    for (const c of clients) {
      const will = (c as unknown as { will?: { topic: string } | null }).will;
      if (will != null) waiting.set(c, will.topic);
    }
    let timer: TimerHandle | undefined;
    let onPublish: ((packet: { topic: string }, client: Client | null) => void) | undefined;
    const flushed = new Promise<void>((resolve) => {
      onPublish = (packet, client) => {
        const topic = client === null ? undefined : waiting.get(client);
        if (client === null || (packet.topic !== topic && packet.topic !== DROP_TOPIC)) return;
        waiting.delete(client);
        if (waiting.size === 0) resolve();
      };
      b.on('publish', onPublish);
      timer = clock.setTimeout(resolve, WILL_FLUSH_MS);
      if (waiting.size === 0) resolve();
    });
    for (const c of clients) c.close();
    await flushed;
    clock.clearTimeout(timer);
    if (onPublish) b.off('publish', onPublish);
  }

  /** The page's port: HTTPS and WSS with the TLS certificate (it follows reloadTls), else HTTP and WS. */
  async function listenPage(
    onRequest: NonNullable<BrokerHostOptions['http']>['onRequest'],
    at: number,
    onConnection: Parameters<typeof listenTcp>[2],
  ): Promise<Listener> {
    const timeoutMs = limits?.connectTimeoutMs;
    if (tlsCertificate === undefined) {
      return listenWebSocket(host, at, maxPacketBytes, onConnection, gate, timeoutMs, onRequest);
    }
    const listener = await listenSecureWebSocket(
      host,
      at,
      maxPacketBytes,
      tlsCertificate,
      onConnection,
      noteTlsFailure('wss'),
      gate,
      timeoutMs,
      onRequest,
    );
    pageTls = listener;
    return listener;
  }

  /** The limits of one start(): the descriptor limit read now, the default connections fitted under it. */
  function resolveLimits(): BrokerLimits {
    const fdLimit = (options.readFdLimit ?? readFdLimit)();
    const room = fdLimit === undefined ? undefined : connectionsWithin(fdLimit.soft);
    const maxConnections = options.maxConnections ?? Math.min(DEFAULT_MAX_CONNECTIONS, room ?? DEFAULT_MAX_CONNECTIONS);
    const resolved: BrokerLimits = {
      maxConnections,
      maxConnectionsPerIp: options.maxConnectionsPerIp ?? DEFAULT_MAX_CONNECTIONS_PER_IP,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      // MQTT-3.1.2-24: one and a half keepalive periods without a packet.
      idleCloseMs: (options.maxIdleS ?? DEFAULT_MAX_IDLE_S) * 1500,
      packetTimeoutMs: options.packetTimeoutMs ?? DEFAULT_PACKET_TIMEOUT_MS,
      maxPendingBytes: options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
      maxDropsPerWindow: options.maxDropsPerWindow ?? DEFAULT_MAX_DROPS_PER_WINDOW,
      dropCoolDownMs: options.dropCoolDownMs ?? DEFAULT_DROP_COOLDOWN_MS,
      ...(fdLimit !== undefined ? { fdLimit } : {}),
    };
    log.info({ fdLimit, ...resolved }, 'connection limits');
    if (room !== undefined && maxConnections > room) {
      log.warn(
        { maxConnections, fdLimit: fdLimit?.soft, room },
        'max connections exceeds the descriptor limit minus its reserve: raise LimitNOFILE= (ulimit -Hn) or lower it',
      );
    }
    return resolved;
  }

  /** The peer watch's counts over every start() so far. */
  function peerStats() {
    const now = peerWatch?.stats() ?? { peersDead: 0, willsPublished: 0, clientsReannounced: 0 };
    return {
      redisOutages: options.cluster?.outages?.() ?? 0,
      peersDead: peerCounts.peersDead + now.peersDead,
      deadPeerWills: peerCounts.willsPublished + now.willsPublished,
      clientsReannounced: peerCounts.clientsReannounced + now.clientsReannounced,
    };
  }

  return {
    get broker() {
      return broker;
    },
    address: () => address,
    limits: () => limits && { ...limits },
    stats: () => ({
      ...stats,
      dropped: { ...stats.dropped },
      authRefused: { ...stats.authRefused },
      aclDenied: { ...stats.aclDenied },
      refused: { ...stats.refused },
      timedOut: { ...stats.timedOut },
      pendingBytes: budget?.used ?? 0,
      trackedNodes: check.trackedNodes(),
      retainedHaves: haves.size,
      ...peerStats(),
    }),

    reloadTls(cert, key) {
      if (tlsCertificate === undefined) throw new Error('reloadTls: this broker host has no TLS listener');
      // Checked before anything changes: a pair that does not load (bad PEM, key of another
      // certificate) throws here and the current certificate stays in use.
      createSecureContext({ cert, key });
      tlsListener?.setCertificate({ cert, key });
      wssListener?.setCertificate({ cert, key });
      pageTls?.setCertificate({ cert, key });
      tlsCertificate = { cert, key };
    },

    async start() {
      if (broker) throw new Error('broker host already started');
      check = createEnvelopeCheck({ topicPrefix: options.topicPrefix, maxTrackedNodes: options.maxTrackedNodes });
      if (!storeOutlivesStart) haves = createHaveRetention(maxRetainedHaves, maxHavesPerNode);
      // A cluster backend opens its connections first: an unreachable Redis fails start() here.
      const shared = await options.cluster?.open();
      limits = resolveLimits();
      admission = createAdmission({
        maxConnections: limits.maxConnections,
        maxPerSource: limits.maxConnectionsPerIp,
        coolDownMs: limits.dropCoolDownMs,
        clock,
      });
      dropBudget = createDropBudget({ maxDrops: limits.maxDropsPerWindow, windowMs: DROP_WINDOW_MS, clock });
      sweep = createConnectionSweep({
        clock,
        packetTimeoutMs: limits.packetTimeoutMs,
        idleMs: limits.idleCloseMs,
      });
      sweep.start();
      budget = new PendingBudget(limits.maxPendingBytes);
      const startBudget = budget;
      const aedesOptions: AedesOptions = {
        id: options.id,
        connectTimeout: limits.connectTimeoutMs,
        // Injected persistence outlives stop()/start(); the default in-memory one is new per start,
        // so retained records (presence, have) are lost on restart, like a broker process restart.
        persistence: shared?.persistence ?? options.persistence ?? memoryPersistence(),
        mq: shared?.mq ?? options.mq?.(),
        authorizeForward,
        ...toAedesHooks({
          preConnect,
          authenticate,
          authorizePublish,
          authorizeSubscribe: async (client, sub) => {
            if (sub.topic.startsWith('$dameso')) return null;
            // The broker's own counters and clients are not every client's business (with auth, the ACL denies them).
            if (!allowSys && acl === undefined && sub.topic.startsWith('$SYS')) {
              stats.sysDenied++;
              const level = levelFor(`${client.id}\0sys`);
              log[level](
                { client: client.id, topic: sub.topic.slice(0, 200) },
                'denied a $SYS subscription (--allow-sys)',
              );
              return null;
            }
            if (acl !== undefined) {
              const node = nodeIdFromClientId(client.id);
              const allowed = viewers.has(client)
                ? viewerAcl(sub.topic, 'subscribe')
                : node !== undefined && acl(node, sub.topic, 'subscribe');
              if (!allowed) {
                aclDeny(client, sub.topic, 'subscribe');
                return null;
              }
            }
            return hooks.authorizeSubscribe ? hooks.authorizeSubscribe(client, sub) : sub;
          },
        }),
      };
      let created: Aedes;
      try {
        created = await Aedes.createBroker(aedesOptions);
      } catch (err) {
        await options.cluster?.close();
        throw err;
      }
      broker = created;
      if (options.cluster !== undefined) {
        watchPeers(created, options.cluster);
        await peerWatch?.publishLeftovers().catch((err: unknown) => {
          log.warn({ err: messageOf(err) }, 'could not publish the Wills a previous process of this broker left');
        });
      }
      created.on('connectionError', (_client: Client, err: Error) => {
        // Aedes' connect timer (client.js): the only error it raises with this message.
        if (err.message === 'connect did not arrive in time') stats.timedOut.connect++;
      });
      const watchedSweep = sweep;
      const onConnection = (stream: Parameters<Aedes['handle']>[0], req?: Parameters<Aedes['handle']>[1]) => {
        stats.connections++;
        stats.connectionsTotal++;
        stream.once('close', () => stats.connections--);
        const client = created.handle(stream, req);
        const scanner = guardPacketSize(
          client,
          { maxPacketBytes, maxConnectPacketBytes: MAX_CONNECT_PACKET_BYTES, budget: startBudget },
          {
            onExceeded: () => {
              stats.packetsTooLarge++;
              log.warn({ client: client.id, maxPacketBytes }, 'closed connection: packet larger than the limit');
            },
            onOverBudget: () => {
              stats.pendingOverBudget++;
              const level = levelFor('pending-budget');
              log[level](
                { client: client.id, remote: sourceOf(client), maxPendingBytes: startBudget.maxBytes },
                'closed connection: incomplete packets at their memory bound',
              );
            },
          },
        );
        const swept = {
          get completed() {
            return scanner.completed;
          },
          get midPacket() {
            return scanner.midPacket;
          },
          connected: () => client.connected,
          close: (why: SweepClose) => noteSweepClose(client, why),
        };
        watchedSweep.add(swept);
        stream.once('close', () => watchedSweep.remove(swept));
      };
      try {
        const tcp = await listenTcp(tcpHost, port, onConnection, gate);
        listeners.push(tcp);
        port = tcp.port;
        if (wsPort !== undefined) {
          const ws = await listenWebSocket(host, wsPort, maxPacketBytes, onConnection, gate, limits.connectTimeoutMs);
          listeners.push(ws);
          wsPort = ws.port;
        }
        if (tlsPort !== undefined && tlsCertificate !== undefined) {
          tlsListener = await listenTls(host, tlsPort, tlsCertificate, onConnection, noteTlsFailure('mqtts'), gate);
          listeners.push(tlsListener);
          tlsPort = tlsListener.port;
        }
        if (wssPort !== undefined && tlsCertificate !== undefined) {
          wssListener = await listenSecureWebSocket(
            host,
            wssPort,
            maxPacketBytes,
            tlsCertificate,
            onConnection,
            noteTlsFailure('wss'),
            gate,
            limits.connectTimeoutMs,
          );
          listeners.push(wssListener);
          wssPort = wssListener.port;
        }
        if (httpPort !== undefined && options.http !== undefined) {
          httpListener = await listenPage(options.http.onRequest, httpPort, onConnection);
          listeners.push(httpListener);
          httpPort = httpListener.port;
        }
      } catch (err) {
        await this.stop();
        throw err;
      }
      const shownOf = (h: string) => (h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h);
      const shown = shownOf(host);
      address = {
        host,
        port,
        tcpHost,
        url: `mqtt://${shownOf(tcpHost)}:${port}`,
        wsPort,
        wsUrl: wsPort === undefined ? undefined : `ws://${shown}:${wsPort}`,
        tlsPort,
        tlsUrl: tlsPort === undefined ? undefined : `mqtts://${shown}:${tlsPort}`,
        wssPort,
        wssUrl: wssPort === undefined ? undefined : `wss://${shown}:${wssPort}`,
        httpPort,
        httpUrl: httpPort === undefined ? undefined : `${tlsCertificate ? 'https' : 'http'}://${shown}:${httpPort}/`,
      };
      return address;
    },

    async stop() {
      const closing = listeners;
      listeners = [];
      tlsListener = undefined;
      wssListener = undefined;
      httpListener = undefined;
      pageTls = undefined;
      const b = broker;
      broker = undefined;
      address = undefined;
      limits = undefined;
      sweep?.stop();
      sweep = undefined;
      const watch = peerWatch;
      peerWatch = undefined;
      if (watch) {
        const counted = watch.stats();
        peerCounts.peersDead += counted.peersDead;
        peerCounts.willsPublished += counted.willsPublished;
        peerCounts.clientsReannounced += counted.clientsReannounced;
        watch.stop();
      }
      forgetStoreBack?.();
      forgetStoreBack = undefined;
      // Clients' Wills go out (live too) before Aedes closes the fan-out.
      if (b && options.cluster !== undefined) await closeClientsWithWills(b);
      // Stop accepting first, then close Aedes (it closes its clients), then drop what is left.
      if (b) await new Promise<void>((resolve) => b.close(() => resolve()));
      await Promise.all(closing.map((l) => l.close()));
      await options.cluster?.close();
    },
  };
}

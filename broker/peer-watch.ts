/**
 * A clustered broker's watch on its peers. Every broker publishes `$SYS/{id}/heartbeat` (the topic
 * Aedes itself uses, at its own slow pace) each heartbeat; a peer that stays silent for
 * PEER_SILENT_HEARTBEATS heartbeats is taken for dead and the Wills its clients left in the shared
 * store are published here, live and retained, so its nodes read offline within seconds instead
 * of after Aedes' minutes-long sweep.
 *
 * Silence counts only while this broker's own heartbeats come back through Redis: during a Redis
 * outage every peer is silent and none is dead. When the fan-out or the store comes back, the
 * broker checks that the Wills of its own clients are still stored; the ones missing (Redis
 * restarted empty, or a peer took this broker for dead) have their clients closed without a Will,
 * so they reconnect at once and announce their presence and records again.
 */

import type { Client } from 'aedes';
import type { Clock, TimerHandle } from '../src/clock.js';
import { messageOf } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import { MAX_PEER_BROKERS, PEER_SILENT_HEARTBEATS } from './constants.js';

/** A Will as the store streams it: the client's packet plus who held it. */
export interface StoredWill {
  topic: string;
  payload: Buffer | Uint8Array | string;
  qos?: 0 | 1 | 2;
  retain?: boolean;
  clientId: string;
  brokerId: string;
}

interface WillStore {
  streamWill(brokers: Record<string, unknown>): AsyncIterable<StoredWill>;
  delWill(client: { id: string; brokerId: string }): Promise<unknown>;
  getWill(client: Client): Promise<unknown>;
}

type MqListener = (packet: { payload: Buffer | string }, done: () => void) => void;

/** What the watch uses of a running Aedes (fields its typings leave out). */
export interface WatchedBroker {
  readonly id: string;
  readonly persistence: unknown;
  readonly mq: {
    on(topic: string, fn: MqListener): unknown;
    removeListener(topic: string, fn: MqListener): unknown;
  };
  readonly clients: Record<string, Client>;
  publish(packet: { topic: string; payload: Buffer }, done: () => void): void;
}

export interface PeerWatchOptions {
  broker: WatchedBroker;
  heartbeatMs: number;
  clock: Clock;
  log: Logger;
  /** Publishes one Will of a dead peer's client through the host's checks; resolves once fanned out. */
  publishWill(will: StoredWill): Promise<void>;
  /** This broker's own heartbeats came back after `gapMs` without them (Redis down or hung). */
  onFanoutBack?(gapMs: number): void;
}

export interface PeerWatchStats {
  /** Peers taken for dead (silent while this broker's heartbeats came back). */
  peersDead: number;
  /** Wills of dead peers' clients published here. */
  willsPublished: number;
  /** Own clients closed because the store had lost their Will, so that they announce again. */
  clientsReannounced: number;
}

export interface PeerWatch {
  /**
   * Publishes the Wills a previous process with this broker's id left (it died and was restarted
   * before its peers found it silent). Run before the broker accepts a client.
   */
  publishLeftovers(): Promise<void>;
  /** The shared store answers again after an outage: check the own clients' Wills are still there. */
  storeBack(): void;
  stop(): void;
  stats(): PeerWatchStats;
}

const HEARTBEAT_FILTER = '$SYS/+/heartbeat';

export function startPeerWatch(options: PeerWatchOptions): PeerWatch {
  const { broker, clock, log } = options;
  const store = broker.persistence as unknown as WillStore;
  const silentMs = options.heartbeatMs * PEER_SILENT_HEARTBEATS;
  const heartbeat = { topic: `$SYS/${broker.id}/heartbeat`, payload: Buffer.from(broker.id, 'utf8') };
  const startedAtMs = clock.monotonic();
  const lastSeen = new Map<string, number>();
  let lastOwnMs = startedAtMs;
  let sweptAtStart = false;
  let stopped = false;
  const stats: PeerWatchStats = { peersDead: 0, willsPublished: 0, clientsReannounced: 0 };
  const pass: WillPass = { broker, store, log, stats, publishWill: options.publishWill, stopped: () => stopped };
  const audit = (): Promise<void> => closeClientsWithLostWills(pass);

  const onHeartbeat = (packet: { payload: Buffer | string }, done: () => void): void => {
    const id = packet.payload.toString();
    const now = clock.monotonic();
    if (id === broker.id) {
      // Our own heartbeats were not coming back: nobody's silence meant anything meanwhile.
      if (now - lastOwnMs > silentMs) {
        for (const peer of lastSeen.keys()) lastSeen.set(peer, now);
        options.onFanoutBack?.(Math.round(now - lastOwnMs));
        void audit();
      }
      lastOwnMs = now;
    } else if (lastSeen.has(id) || lastSeen.size < MAX_PEER_BROKERS) {
      lastSeen.set(id, now);
    }
    done();
  };
  broker.mq.on(HEARTBEAT_FILTER, onHeartbeat);

  /** Publishes and deletes the Wills held by brokers not heard from; one pass at a time. */
  const sweep = oneAtATime(
    async () => {
      const alive: Record<string, true> = { [broker.id]: true };
      for (const peer of lastSeen.keys()) alive[peer] = true;
      const published = await publishWills(pass, store.streamWill(alive), () => true);
      if (published > 0) log.info({ wills: published }, 'published the Wills of clients of a dead broker');
    },
    (err) => log.warn({ err: messageOf(err) }, 'could not publish the Wills of a dead broker'),
    () => stopped,
  );

  const tick = (): void => {
    broker.publish(heartbeat, () => undefined);
    const now = clock.monotonic();
    if (now - lastOwnMs > silentMs) return; // the fan-out itself is down
    const dead = [...lastSeen].filter(([, seen]) => now - seen > silentMs).map(([peer]) => peer);
    for (const peer of dead) lastSeen.delete(peer);
    if (dead.length > 0) {
      stats.peersDead += dead.length;
      log.warn({ peers: dead, silentMs }, 'peer broker silent: publishing the Wills of its clients');
      sweep();
    } else if (!sweptAtStart && now - startedAtMs > silentMs + options.heartbeatMs) {
      // Every live peer has been heard by now: Wills of any other broker are from one that died
      // before this one started.
      sweptAtStart = true;
      sweep();
    }
  };
  const timer: TimerHandle = clock.setInterval(tick, options.heartbeatMs);

  return {
    async publishLeftovers() {
      const mine = (will: StoredWill) => will.brokerId === broker.id && broker.clients[will.clientId] === undefined;
      const published = await publishWills(pass, store.streamWill({}), mine);
      if (published > 0) log.info({ wills: published }, 'published the Wills a previous process of this broker left');
    },
    storeBack: () => void audit(),
    stop() {
      stopped = true;
      clock.clearInterval(timer);
      broker.mq.removeListener(HEARTBEAT_FILTER, onHeartbeat);
    },
    stats: () => ({ ...stats }),
  };
}

/** What publishing and auditing Wills work with. */
interface WillPass {
  broker: WatchedBroker;
  store: WillStore;
  log: Logger;
  stats: PeerWatchStats;
  publishWill(will: StoredWill): Promise<void>;
  stopped(): boolean;
}

/**
 * `run` one pass at a time: a call during a pass runs one more pass after it (unless stopped
 * meanwhile); a failed pass goes to `onError`.
 */
function oneAtATime(run: () => Promise<void>, onError: (err: unknown) => void, stopped: () => boolean): () => void {
  let running: Promise<void> | undefined;
  let again = false;
  const trigger = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = run()
      .catch(onError)
      .finally(() => {
        running = undefined;
        if (again && !stopped()) {
          again = false;
          trigger();
        }
      });
  };
  return trigger;
}

/** Publishes, then deletes, each streamed Will `wanted` keeps; returns how many. */
async function publishWills(
  pass: WillPass,
  wills: AsyncIterable<StoredWill>,
  wanted: (will: StoredWill) => boolean,
): Promise<number> {
  let published = 0;
  for await (const will of wills) {
    if (pass.stopped()) break;
    if (!wanted(will)) continue;
    await pass.publishWill(will);
    published++;
    pass.stats.willsPublished++;
    await pass.store.delWill({ id: will.clientId, brokerId: will.brokerId });
  }
  return published;
}

/** Closes, without their Will, the own clients whose Will the store no longer holds. */
async function closeClientsWithLostWills(pass: WillPass): Promise<void> {
  const { broker, store, log } = pass;
  const withWill = Object.values(broker.clients).filter((c) => c.connected && willOf(c) != null);
  const lost: Client[] = [];
  try {
    const stored = await Promise.all(withWill.map((c) => store.getWill(c)));
    withWill.forEach((c, i) => {
      if (stored[i] == null) lost.push(c);
    });
  } catch (err) {
    log.debug({ err: messageOf(err) }, 'could not read the stored Wills back');
    return;
  }
  if (lost.length === 0 || pass.stopped()) return;
  pass.stats.clientsReannounced += lost.length;
  log.warn(
    { clients: lost.length },
    'the shared store lost the Wills of clients here (Redis restarted empty, or a peer took this broker for dead): closing them so they reconnect and announce again',
  );
  for (const client of lost) {
    // The node is alive: it must not read offline to the others while it reconnects.
    (client as unknown as { will: unknown }).will = null;
    client.close();
  }
}

function willOf(client: Client): unknown {
  return (client as unknown as { will?: unknown }).will;
}

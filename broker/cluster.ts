/**
 * Broker clustering over Redis: several dameso brokers share one retained store (presence, have,
 * sync records: aedes-persistence-redis) and one fan-out (mqemitter-redis, Redis pub/sub), so a
 * node on broker A and a node on broker B see one fleet. Each broker still runs its own envelope
 * check on what its own clients publish; a message relayed from another broker was checked there.
 *
 * Every start() of the host opens three connections (retained store, publish, subscribe) and
 * checks Redis answers before Aedes starts, so an unreachable Redis is one typed error at start
 * instead of a broker that accepts nodes and stores nothing. stop() closes all three: a stopped
 * host leaves no handle open.
 */

import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { Redis, RedisOptions } from 'ioredis';
import { type Clock, systemClock } from '../src/clock.js';
import { ConfigError, DamesoError } from '../src/errors.js';
import type { Logger } from '../src/log.js';
import { silentLogger } from '../src/log.js';
import type { BrokerCluster, ClusterParts } from './types.js';

interface RetainedPacket {
  topic: string;
}
interface RedisPersistence {
  createRetainedStream(pattern: string): AsyncIterable<RetainedPacket>;
  createRetainedStreamCombi(patterns: string[]): Readable;
  destroy(cb?: () => void): unknown;
}
interface RedisLibs {
  persistenceRedis: (opts: { conn: Redis }) => RedisPersistence;
  mqemitterRedis: (opts: { pubConn: Redis; subConn: Redis }) => {
    state: NodeJS.EventEmitter;
    close(cb: () => void): void;
  };
  RedisClient: new (url: string, options: RedisOptions) => Redis;
}

let libs: RedisLibs | undefined;
/**
 * Loaded at the first clustered start only: they add heap to a process (docs/benchmarks.md), and
 * every node with an embedded broker imports this module.
 * CommonJS; ioredis is the one they depend on (resolved from them, not hoisted by luck).
 */
function redisLibs(): RedisLibs {
  if (libs) return libs;
  const requireHere = createRequire(import.meta.url);
  libs = {
    persistenceRedis: requireHere('aedes-persistence-redis'),
    mqemitterRedis: requireHere('mqemitter-redis'),
    RedisClient: createRequire(requireHere.resolve('aedes-persistence-redis'))('ioredis'),
  };
  return libs;
}

/** How long start() waits for Redis to answer before giving up. */
export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Redis did not answer at start: the message names the URL (without password) and the cause. A
 * service is unavailable (exit 69, like an unreachable broker), not a bad configuration; a
 * malformed URL stays a ConfigError (exit 78).
 */
export class RedisUnreachableError extends DamesoError {
  readonly url: string;

  constructor(url: string, waitedMs: number, cause: string) {
    super(
      'DAMESO_REDIS_UNREACHABLE',
      `cannot reach Redis at ${url} within ${waitedMs} ms (${cause}); start redis-server there or fix --redis`,
    );
    this.url = url;
  }
}

export interface RedisClusterOptions {
  /** ms; default DEFAULT_REDIS_CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
  /** Times the length of an outage. Default systemClock. */
  clock?: Clock;
  log?: Logger;
}

/** `redis://[user:pass@]host[:port][/db]` (or `rediss://`): throws ConfigError when malformed. */
export function parseRedisUrl(url: string): { shown: string; db: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('redis', `"${url}" is not a URL; use redis://HOST:PORT/DB, e.g. redis://127.0.0.1:6379/0`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError('redis', `"${redact(parsed)}" must start with redis:// or rediss://`);
  }
  if (parsed.hostname === '') throw new ConfigError('redis', `"${redact(parsed)}" names no host`);
  const dbText = parsed.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0 || db > 65_535) {
    throw new ConfigError('redis', `"${redact(parsed)}": the database must be a number after the port, e.g. /0`);
  }
  return { shown: redact(parsed), db };
}

/** The URL as logs and errors show it: never a password. */
function redact(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password !== '') copy.password = '***';
  return copy.href;
}

/**
 * A cluster backend for createBrokerHost({ cluster }): opens fresh Redis connections at each
 * start() (throws RedisUnreachableError when Redis does not answer) and closes them at stop().
 */
export function redisCluster(url: string, options: RedisClusterOptions = {}): BrokerCluster {
  const { shown } = parseRedisUrl(url);
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS;
  const log = options.log ?? silentLogger;
  let open: { conns: Redis[]; persistence: RedisPersistence } | undefined;

  const outage = trackOutages(shown, log, options.clock ?? systemClock);

  async function connectAll(): Promise<Redis[]> {
    let lastError = 'no answer';
    // lazyConnect: nothing is sent until connect(); after start ioredis reconnects on its own.
    const { RedisClient } = redisLibs();
    const conns = ['store', 'publish', 'subscribe'].map((role) => {
      let up = false;
      const conn = new RedisClient(url, {
        lazyConnect: true,
        connectTimeout: timeoutMs,
        enableAutoPipelining: true,
        // No retry before the first ready: a failed start ends its connections itself (else each
        // would retry in the background). Once up, ioredis' default backoff (50 ms steps to 2 s).
        retryStrategy: (times: number) => (up ? Math.min(times * 50, 2_000) : null),
      });
      // Without a listener ioredis prints every failed retry to the console.
      conn.on('error', (err: Error) => {
        lastError = err.message;
        // At start the failure is the typed error thrown below, not a log line.
        if (up) outage.down(role, err.message);
      });
      conn.on('close', () => {
        if (up && conn.status !== 'end') outage.down(role, 'connection closed');
      });
      conn.on('ready', () => {
        if (up) outage.up(role);
        up = true;
      });
      return conn;
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.all(conns.map((c) => c.connect())),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
        }),
      ]);
      return conns;
    } catch (err) {
      for (const c of conns) release(c);
      const cause = lastError !== 'no answer' ? lastError : err instanceof Error ? err.message : String(err);
      throw new RedisUnreachableError(shown, timeoutMs, cause);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    describe: shown,
    onBack: (fn) => outage.onBack(fn),
    outages: () => outage.count(),
    lastOutageEndMs: () => outage.lastEndMs(),

    async open(): Promise<ClusterParts> {
      if (open) throw new Error('redis cluster already open');
      const conns = await connectAll();
      const [store, pub, sub] = conns as [Redis, Redis, Redis];
      const { persistenceRedis, mqemitterRedis } = redisLibs();
      const persistence = inFilterOrder(persistenceRedis({ conn: store }));
      const mq = mqemitterRedis({ pubConn: pub, subConn: sub });
      // mqemitter-redis re-emits connection errors on `state`; unheard, an EventEmitter 'error' throws.
      mq.state.on('error', () => {});
      open = { conns, persistence };
      outage.opened();
      log.info({ redis: shown }, 'broker clustered over redis');
      return { persistence, mq };
    },

    async close(): Promise<void> {
      outage.closing();
      const o = open;
      open = undefined;
      if (!o) return;
      // Aedes closed the mq (its two connections) already; the store is ours to release.
      // Bounded: with Redis down its unsubscribe would wait in ioredis' offline queue.
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          settleThenDestroy(o.conns[0], o.persistence),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, timeoutMs);
          }),
        ]);
      } catch (err) {
        log.debug({ redis: shown, err: err instanceof Error ? err.message : String(err) }, 'redis store destroy');
      } finally {
        clearTimeout(timer);
      }
      for (const c of o.conns) release(c);
    },
  };
}

/**
 * Aedes deletes each closed client's Will without waiting for every command it sends: one still in
 * flight when the connection is cut rejects where nobody listens (an unhandled rejection ends the
 * process). A PING answered means Redis answered everything sent before it on that connection.
 */
async function settleThenDestroy(store: Redis | undefined, persistence: RedisPersistence): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await store?.ping().catch(() => undefined);
  await persistence.destroy();
}

/**
 * One outage of Redis, however many of the three connections see it: said once at warn when it
 * starts and once at info with its length when every connection is back, then counted.
 */
function trackOutages(shown: string, log: Logger, clock: Clock) {
  const downRoles = new Set<string>();
  let sinceMs: number | undefined;
  let count = 0;
  let endedAtMs: number | undefined;
  let open = false;
  const listeners = new Set<() => void>();
  return {
    opened() {
      open = true;
      downRoles.clear();
      sinceMs = undefined;
    },
    closing() {
      open = false;
    },
    down(role: string, err: string) {
      if (!open) return;
      downRoles.add(role);
      if (sinceMs !== undefined) return;
      sinceMs = clock.monotonic();
      log.warn({ redis: shown, role, err }, 'redis unreachable; retrying');
    },
    up(role: string) {
      downRoles.delete(role);
      if (!open || sinceMs === undefined || downRoles.size > 0) return;
      endedAtMs = clock.monotonic();
      const durationMs = Math.round(endedAtMs - sinceMs);
      sinceMs = undefined;
      count++;
      log.info({ redis: shown, durationMs, outages: count }, 'redis outage ended');
      for (const fn of listeners) fn();
    },
    onBack(fn: () => void): () => void {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    count: () => count,
    lastEndMs: () => endedAtMs,
  };
}

/**
 * aedes-persistence-redis streams the retained records of one SUBSCRIBE exact-topic filters first,
 * then every wildcard filter in one scan (its matchRetained). The roster barrier needs them filter
 * by filter in packet order (src/protocol/roster-barrier.ts: `R/presence/+` then `R/sync/{node}`):
 * without this, the presence records come after the sync record. Each topic is
 * still sent once, as the original does.
 */
function inFilterOrder(persistence: RedisPersistence): RedisPersistence {
  const combi = persistence.createRetainedStreamCombi.bind(persistence);
  persistence.createRetainedStreamCombi = (patterns) => {
    if (patterns.length < 2) return combi(patterns);
    return Readable.from(oneFilterAfterTheOther(persistence, patterns));
  };
  return persistence;
}

async function* oneFilterAfterTheOther(persistence: RedisPersistence, patterns: string[]) {
  const sent = new Set<string>();
  for (const pattern of patterns) {
    for await (const packet of persistence.createRetainedStream(pattern)) {
      if (sent.has(packet.topic)) continue;
      sent.add(packet.topic);
      yield packet;
    }
  }
}

/**
 * Closes a connection unless it has ended already (mqemitter-redis quits its two at Aedes' close):
 * ioredis' disconnect() on a closed socket leaves a 2 s timer that holds the process open after
 * stop().
 */
function release(conn: Redis): void {
  if (conn.status !== 'end') conn.disconnect();
}

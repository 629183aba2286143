/**
 * Two dameso broker hosts clustered over one real redis-server (Debian's package, started here on a
 * free port): nodes on either broker see one fleet, a stopped broker takes only its own
 * connections, and an unreachable Redis is one typed error at start.
 */
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BrokerHost, createBrokerHost, RedisUnreachableError, redisCluster } from '../../broker/index.js';
import { encode } from '../../src/protocol/index.js';
import { collect, connectClient, endAll, waitFor } from '../helpers/broker-clients.js';
import { measureRetainedRace } from '../helpers/broker-race.js';
import { freePort, startHostedAedes } from '../helpers/brokers.js';
import { runCli } from '../helpers/node-cli.js';
import { fixedHandler, NodePool, until, YES } from '../helpers/node-fixtures.js';
import { hasRedis, REDIS_BIN, type RedisHandle, startRedis } from '../helpers/redis.js';
import { CHUNK, have, presence } from '../protocol/fixtures.js';

const R = 'dameso/v1';
const present = hasRedis();
if (!present) {
  console.warn(
    `redis-cluster suite SKIPPED: no redis-server at ${REDIS_BIN} (apt-get install -y redis-server, or set REDIS_BIN)`,
  );
}

/** TCP sockets and servers this process holds (a stopped cluster must leave none behind). */
const handles = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPWrap').length;

describe.skipIf(!present)('two dameso brokers clustered over one Redis', () => {
  let redis: RedisHandle;
  let a: BrokerHost;
  let b: BrokerHost;
  let urlA: string;
  let urlB: string;
  let pool: NodePool;
  const clients: MqttClient[] = [];
  const client = async (url: string, clientId: string) => {
    const c = await connectClient(url, { clientId });
    clients.push(c);
    return c;
  };

  const clusteredHost = (r: RedisHandle, id: string) =>
    createBrokerHost({ host: '127.0.0.1', port: 0, id, cluster: redisCluster(r.url) });

  beforeEach(async () => {
    redis = await startRedis();
    a = clusteredHost(redis, 'broker-a');
    b = clusteredHost(redis, 'broker-b');
    urlA = (await a.start()).url;
    urlB = (await b.start()).url;
    pool = new NodePool();
  });
  afterEach(async () => {
    await endAll(...clients.splice(0));
    await pool.cleanup();
    await a.stop();
    await b.stop();
    await redis.stop();
  });

  it('a retained presence and have record published on A reach a node that subscribes on B', async () => {
    const peer = await client(urlA, 'dameso.peer-a');
    await peer.publishAsync(`${R}/presence/peer-a`, encode(presence('peer-a')), { qos: 1, retain: true });
    await peer.publishAsync(`${R}/have/${CHUNK}/peer-a`, encode(have('peer-a')), { qos: 1, retain: true });

    // Retained: stored in Redis by A, streamed by B to a node that starts after the publish. Waited
    // for, not expected at start(): see "the roster barrier" below for why the node may be early.
    const onB = await pool.start(urlB, 'b1');
    await until(() => onB.roster.get('peer-a')?.online === true, 10_000, 'peer-a in the roster of b1');
    expect(onB.roster.get('peer-a')).toMatchObject({ online: true, roles: ['bt', 'mapper'] });
    const reader = await client(urlB, 'reader-b');
    const haves = await collect(reader, `${R}/have/+/+`);
    await waitFor(reader, () => haves.length === 1, 'have record');
    expect(haves[0]).toMatchObject({ topic: `${R}/have/${CHUNK}/peer-a`, retain: true });

    // Live: a node joining on A is seen by the node on B through the Redis fan-out.
    await pool.start(urlA, 'a1');
    await until(() => onB.roster.get('a1')?.online === true, 10_000, 'a1 online in the roster of b1');
  });

  it('the retained sync record comes after all 500 retained presence records on a Redis-backed broker', async () => {
    // aedes-persistence-redis streams exact-topic filters before wildcard ones; cluster.ts restores
    // filter order, which the barrier (src/protocol/roster-barrier.ts) relies on. The node side also
    // needs to wait for the RETAINED copy: over Redis the live copy of its own sync record can reach
    // it after its SUBSCRIBE (Aedes acks a QoS 1 publish before storing and fanning it out).
    const race = await measureRetainedRace(urlB, 500, 'sync');
    expect(race.afterMarker).toBe(0);
  });

  it('`dameso broker --redis` joins the same cluster: its node sees the record published on A', async () => {
    const peer = await client(urlA, 'dameso.peer-a');
    await peer.publishAsync(`${R}/presence/peer-a`, encode(presence('peer-a')), { qos: 1, retain: true });
    const hosted = await startHostedAedes({ args: ['--redis', redis.url, '--id', 'broker-c'] });
    try {
      const onC = await pool.start(hosted.url, 'c1');
      await until(() => onC.roster.get('peer-a')?.online === true, 10_000, 'peer-a in the roster of c1');
    } finally {
      await pool.cleanup();
      await hosted.stop();
    }
  });

  it('an intent declared by a node on A gets YES from the nodes on B', async () => {
    const bt = [fixedHandler('want_chunk', 'bt', YES('B'))];
    await pool.start(urlB, 'y1', { roles: ['bt'], handlers: bt });
    await pool.start(urlB, 'y2', { roles: ['bt'], handlers: bt });
    const req = await pool.start(urlA, 'req');
    await until(() => req.roster.get('y1')?.online === true && req.roster.get('y2')?.online === true, 10_000, 'y1, y2');

    const o = await req.declare('want_chunk', { subject: CHUNK, deadlineMs: 10_000 });
    expect(o.closedBy).toBe('all_answered');
    expect(o.yes.map((r) => [r.envelope.from, r.unexpected]).sort()).toEqual([
      ['y1', false],
      ['y2', false],
    ]);
  });

  it('with A stopped, B still serves the retained records and still drops a spoofed publish', async () => {
    const peer = await client(urlA, 'dameso.peer-a');
    await peer.publishAsync(`${R}/presence/peer-a`, encode(presence('peer-a')), { qos: 1, retain: true });
    const onB = await pool.start(urlB, 'b1');
    await until(() => onB.roster.get('peer-a')?.online === true, 10_000, 'peer-a in the roster of b1');
    await a.stop();

    // A fresh node on B reads the records A stored in Redis.
    const late = await pool.start(urlB, 'b2');
    await until(() => late.roster.get('peer-a')?.online === true, 10_000, 'peer-a in the roster of b2');

    // mallory (client id bound to node "mallory") speaks for peer-a on B: dropped, nobody sees it.
    const watcher = await client(urlB, 'watcher-b');
    const seen = await collect(watcher, `${R}/presence/peer-a`);
    await waitFor(watcher, () => seen.length === 1, 'retained presence of peer-a');
    const mallory = await client(urlB, 'dameso.mallory');
    const dropsBefore = b.stats().dropped.spoofed;
    await mallory.publishAsync(`${R}/presence/peer-a`, encode(presence('peer-a', { state: 'offline', session: 4 })), {
      qos: 1,
      retain: true,
    });
    expect(b.stats().dropped.spoofed).toBe(dropsBefore + 1);
    // A marker published after the spoof arrives; the spoof did not, live or retained.
    const marker = await collect(watcher, `${R}/presence/mallory`);
    await mallory.publishAsync(`${R}/presence/mallory`, encode(presence('mallory')), { qos: 1 });
    await waitFor(watcher, () => marker.length === 1, 'marker');
    expect(seen).toHaveLength(1);
    expect(onB.roster.get('peer-a')?.online).toBe(true);
    const reread = await client(urlB, 'reader-b');
    const stored = await collect(reread, `${R}/presence/peer-a`);
    await waitFor(reread, () => stored.length === 1, 'retained presence of peer-a');
    expect(stored[0]?.payload).toEqual(seen[0]?.payload);
  });
});

describe.skipIf(!present)('Redis unreachable at start', () => {
  it('host.start() rejects with RedisUnreachableError naming the URL, and leaves no socket open', async () => {
    const port = await freePort(); // nothing listens there
    const url = `redis://127.0.0.1:${port}/0`;
    const before = handles();
    const host = createBrokerHost({ host: '127.0.0.1', port: 0, cluster: redisCluster(url) });
    const err = await host.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisUnreachableError);
    expect(err).toMatchObject({ code: 'DAMESO_REDIS_UNREACHABLE', url });
    expect((err as Error).message).toContain(url);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
    expect(host.broker).toBeUndefined();
    await until(() => handles() <= before, 5_000, 'redis sockets closed');
  });

  it('a started and stopped clustered host leaves no socket open', async () => {
    const redis = await startRedis();
    const before = handles();
    const host = createBrokerHost({ host: '127.0.0.1', port: 0, cluster: redisCluster(redis.url) });
    await host.start();
    await host.stop();
    await until(() => handles() <= before, 5_000, 'redis sockets closed');
    await redis.stop();
  });

  it('dameso broker --help explains --redis and --id with an example', async () => {
    const help = await runCli(['broker', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--redis <url>/);
    expect(help.stdout).toMatch(/--id <id>/);
    expect(help.stdout).toMatch(/dameso broker --port 1883 --redis redis:\/\/\S+ --id \S+/);
  });

  it('dameso broker --redis exits 69 (unavailable) with one line naming the URL, no stack; a bad URL exits 78', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}/0`;
    const [down, bad] = await Promise.all([
      runCli(['broker', '--host', '127.0.0.1', '--port', '0', '--redis', url]),
      runCli(['broker', '--host', '127.0.0.1', '--port', '0', '--redis', 'http://x:1']),
    ]);
    expect(down.code).toBe(69);
    expect(down.stderr).toMatch(
      new RegExp(`^dameso: cannot reach Redis at ${url} .*\\[DAMESO_REDIS_UNREACHABLE\\]\\n$`),
    );
    expect(down.stderr).not.toMatch(/\n\s+at /);
    expect(bad.code).toBe(78);
    expect(bad.stderr).toMatch(/redis:\/\/ or rediss:\/\//);
  });
});

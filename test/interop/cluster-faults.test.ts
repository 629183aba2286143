/**
 * Two dameso brokers clustered over one real redis-server, under faults: broker A is a real
 * `dameso broker` process (SIGKILLed or SIGTERMed), broker B a host in this process (its counters
 * are read), the nodes on A real node processes. A dead broker's nodes read offline on B within
 * the heartbeat bound and a node with B in its --broker list comes back there with a new session;
 * a graceful stop's Wills reach B's running nodes live; a Redis that hangs delivers nothing older
 * than the fan-out bound afterwards; a Redis restarted empty gets the roster and records back.
 */
import type { ChildProcess } from 'node:child_process';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BrokerHost, createBrokerHost, PEER_SILENT_HEARTBEATS, redisCluster } from '../../broker/index.js';
import { collect, connectClient, endAll, waitFor } from '../helpers/broker-clients.js';
import { type ClusterBrokerProcess, startClusterBroker } from '../helpers/cluster-broker.js';
import { runCli } from '../helpers/node-cli.js';
import { killHard, NodePool, spawnChildNode, until } from '../helpers/node-fixtures.js';
import { hasRedis, type RedisHandle, startRedis } from '../helpers/redis.js';
import { CHUNK, have } from '../protocol/fixtures.js';

const R = 'dameso/v1';
const HEARTBEAT_S = 1;
/** Documented bound on finding a dead peer: (silent heartbeats + 1) heartbeats, plus slack for a loaded box. */
const DETECTION_BOUND_MS = (PEER_SILENT_HEARTBEATS + 1) * HEARTBEAT_S * 1000 + 4_000;

describe('dameso broker --heartbeat-s and --fanout-max-age-ms', () => {
  it('--help teaches both with examples; a bad value is one usage line, exit 64', async () => {
    const [help, bad] = await Promise.all([
      runCli(['broker', '--help']),
      runCli(['broker', '--port', '0', '--heartbeat-s', '0']),
    ]);
    expect(help.stdout).toMatch(/--heartbeat-s <s>/);
    expect(help.stdout).toMatch(/--fanout-max-age-ms <ms>/);
    expect(help.stdout).toMatch(/dameso broker --redis \S+ --heartbeat-s 2/);
    expect(help.stdout).toMatch(/--broker mqtt:\/\/site-a:1883,mqtt:\/\/site-b:1883/);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(
      /^dameso: --heartbeat-s must be an integer in \[1, 3600\], got "0".*\[DAMESO_USAGE\]\n$/,
    );
  });
});

describe.skipIf(!hasRedis())('a cluster of two brokers under faults', () => {
  let redis: RedisHandle;
  let a: ClusterBrokerProcess | undefined;
  let b: BrokerHost;
  let urlB: string;
  const pool = new NodePool();
  const children: ChildProcess[] = [];
  const clients: MqttClient[] = [];

  const hostB = (r: RedisHandle, heartbeatMs: number, fanoutMaxAgeMs?: number) =>
    createBrokerHost({
      host: '127.0.0.1',
      port: 0,
      id: 'broker-b',
      allowSys: true,
      heartbeatMs,
      ...(fanoutMaxAgeMs !== undefined ? { fanoutMaxAgeMs } : {}),
      cluster: redisCluster(r.url),
    });

  beforeEach(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await endAll(...clients.splice(0));
    await Promise.all(children.splice(0).map(killHard));
    await pool.cleanup();
    await a?.kill('SIGKILL');
    a = undefined;
    await b?.stop();
    await redis.stop();
  });

  it('SIGKILL of broker A mid-intent: its node reads OFFLINE on B, the one listing B comes back there with a new session', async () => {
    a = await startClusterBroker(redis.url, 'broker-a', ['--heartbeat-s', String(HEARTBEAT_S)]);
    b = hostB(redis, HEARTBEAT_S * 1000);
    urlB = (await b.start()).url;
    const stuck = await spawnChildNode(a.url, 'n1', 'silence', await pool.dir());
    const mover = await spawnChildNode(`${a.url},${urlB}`, 'n2', 'silence', await pool.dir());
    children.push(stuck, mover);
    const req = await pool.start(urlB, 'req');
    await until(() => req.roster.get('n1')?.online === true && req.roster.get('n2')?.online === true, 10_000, 'n1, n2');
    const n2Session = req.roster.get('n2')?.session ?? 0;

    const outcome = req.declare('want_chunk', { subject: CHUNK, to: ['n1', 'n2'], deadlineMs: 12_000 });
    await a.kill('SIGKILL');
    await until(() => req.roster.get('n1')?.online === false, DETECTION_BOUND_MS, 'n1 offline at req');
    await until(
      () => req.roster.get('n2')?.online === true && (req.roster.get('n2')?.session ?? 0) > n2Session,
      DETECTION_BOUND_MS,
      'n2 back on B with a new session',
    );
    expect(b.stats().peersDead).toBe(1);
    // n1's Will came from B's sweep (A is gone); it may already be the n2 Will's turn.
    await until(() => b.stats().deadPeerWills >= 1, 5_000, 'the Wills counted');
    const o = await outcome;
    expect(o.offline).toContain('n1');
    expect(o.silence).not.toContain('n1');
  }, 60_000);

  it('broker A SIGKILLed and restarted under its id before anyone found it silent: it publishes the Wills its previous process left', async () => {
    a = await startClusterBroker(redis.url, 'broker-a');
    // B never takes A for dead here: what reaches the watcher comes from the restarted A.
    b = hostB(redis, 3_600_000);
    urlB = (await b.start()).url;
    const n6 = await spawnChildNode(a.url, 'n6', 'yes', await pool.dir());
    children.push(n6);
    const watcher = await pool.start(urlB, 'watcher');
    await until(() => watcher.roster.get('n6')?.online === true, 10_000, 'n6 online at watcher');

    // The board dies with its broker: nobody is left to publish its Will.
    await a.kill('SIGKILL');
    await killHard(n6);
    expect(watcher.roster.get('n6')?.online).toBe(true);
    a = await startClusterBroker(redis.url, 'broker-a');
    await until(() => watcher.roster.get('n6')?.online === false, 10_000, 'n6 offline at watcher');
    expect(b.stats().deadPeerWills).toBe(0);
  }, 60_000);

  it('SIGTERM of broker A: the running node on B drops A’s node from its live roster at once (its Will goes out live)', async () => {
    a = await startClusterBroker(redis.url, 'broker-a');
    // B's own sweep is an hour away: what reaches the node on B is A's live Will.
    b = hostB(redis, 3_600_000);
    urlB = (await b.start()).url;
    children.push(await spawnChildNode(a.url, 'n3', 'yes', await pool.dir()));
    const watcher = await pool.start(urlB, 'watcher');
    await until(() => watcher.roster.get('n3')?.online === true, 10_000, 'n3 online at watcher');

    const exit = await a.kill('SIGTERM');
    expect(exit.code).toBe(0);
    await until(() => watcher.roster.get('n3')?.online === false, 5_000, 'n3 removed from the live roster');
    expect(b.stats().deadPeerWills).toBe(0);
    // A newcomer reads the same thing from the store: one view of the fleet.
    const late = await pool.start(urlB, 'late');
    expect(late.roster.get('n3')?.online).not.toBe(true);
  }, 60_000);

  it('Redis hung for 4.5 s: nothing published meanwhile is delivered older than the fan-out bound, and no peer is taken for dead', async () => {
    const boundMs = 1_000;
    b = hostB(redis, HEARTBEAT_S * 1000, boundMs);
    urlB = (await b.start()).url;
    const other = createBrokerHost({
      host: '127.0.0.1',
      port: 0,
      id: 'broker-c',
      heartbeatMs: HEARTBEAT_S * 1000,
      fanoutMaxAgeMs: boundMs,
      cluster: redisCluster(redis.url),
    });
    const urlC = (await other.start()).url;
    try {
      const sub = await connectClient(urlB, { clientId: 'sub-b' });
      const pub = await connectClient(urlC, { clientId: 'pub-c' });
      clients.push(sub, pub);
      const ages: number[] = [];
      sub.on('message', (topic, payload) => {
        if (topic.startsWith('t/')) ages.push(Date.now() - Number(payload.toString()));
      });
      await sub.subscribeAsync('t/#', { qos: 0 });
      await pub.publishAsync('t/warm', String(Date.now()), { qos: 0 });
      await until(() => ages.length === 1, 5_000, 'the warm-up message');

      // Longer than 3 heartbeats: every peer is silent, and so are B's own heartbeats.
      redis.pause();
      for (let i = 0; i < 45; i++) {
        pub.publish(`t/${i}`, String(Date.now()), { qos: 0 });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      redis.resume();
      // A marker after the outage arrives: the fan-out works again and everything before it is in.
      await pub.publishAsync('t/after', String(Date.now()), { qos: 0 });
      await until(() => b.stats().staleDeliveries > 0 && ages.length >= 2, 10_000, 'stale ones dropped, marker in');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(Math.max(...ages)).toBeLessThanOrEqual(boundMs + 250);
      expect(b.stats().staleDeliveries).toBeGreaterThan(0);
      // Two more heartbeats of C heard on B after the outage: B has ticked since, and C is alive to it.
      const beats = await collect(sub, '$SYS/broker-c/heartbeat');
      await waitFor(sub, () => beats.filter((m) => !m.retain).length >= 2, 'two heartbeats of C');
      expect(b.stats().peersDead).toBe(0);
      expect(other.stats().peersDead).toBe(0);
      // The connections stayed up: the hang is said as a stall, once, not as an outage.
      await until(() => b.stats().redisStalls === 1, 5_000, 'the stall counted');
      expect(b.stats().redisOutages).toBe(0);
    } finally {
      await endAll(...clients.splice(0));
      await other.stop();
    }
  }, 60_000);

  it('Redis restarted empty: the roster and the have records are whole again, and the outage is counted', async () => {
    b = hostB(redis, HEARTBEAT_S * 1000);
    urlB = (await b.start()).url;
    const n4 = await pool.start(urlB, 'n4', { roles: ['bt'] });
    await pool.start(urlB, 'n5', { roles: ['bt'] });
    await n4.transport.publish(`${R}/have/${CHUNK}/n4`, have('n4'), { qos: 1, retain: true });

    await redis.restartEmpty();
    await until(() => b.stats().redisOutages === 1, 10_000, 'the outage counted');
    await until(() => b.stats().clientsReannounced >= 2, 10_000, 'n4 and n5 asked to announce again');
    const late = await pool.start(urlB, 'late');
    await until(
      () => late.roster.get('n4')?.online === true && late.roster.get('n5')?.online === true,
      10_000,
      'n4 and n5 in a newcomer’s roster',
    );
    const reader = await connectClient(urlB, { clientId: 'reader' });
    clients.push(reader);
    const haves = await collect(reader, `${R}/have/+/+`);
    await waitFor(reader, () => haves.length === 1, 'the have record of n4');
    expect(haves[0]).toMatchObject({ topic: `${R}/have/${CHUNK}/n4`, retain: true });
  }, 60_000);
});

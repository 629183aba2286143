/**
 * Two fleets on one real redis-server, told apart by `--prefix` alone: fleet1 spans two clustered
 * brokers (an intent crosses them), fleet2 has a broker of its own on the same Redis, and neither
 * fleet sees the other. A fleet1 node sent to fleet2's broker is told the prefixes differ.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerHost, createBrokerHost, redisCluster } from '../../broker/index.js';
import { BrokerPrefixMismatchError } from '../../src/transport/index.js';
import { fixedHandler, NodePool, until, YES } from '../helpers/node-fixtures.js';
import { hasRedis, REDIS_BIN, type RedisHandle, startRedis } from '../helpers/redis.js';
import { CHUNK } from '../protocol/fixtures.js';

const present = hasRedis();
if (!present) {
  console.warn(`redis-prefix suite SKIPPED: no redis-server at ${REDIS_BIN} (apt-get install -y redis-server)`);
}

describe.skipIf(!present)('two fleets with their own --prefix on one Redis', () => {
  let redis: RedisHandle;
  const hosts: BrokerHost[] = [];
  const urls: Record<'a1' | 'a2' | 'b', string> = { a1: '', a2: '', b: '' };
  const pool = new NodePool();

  beforeAll(async () => {
    redis = await startRedis();
    for (const [name, prefix] of [
      ['a1', 'fleet1'],
      ['a2', 'fleet1'],
      ['b', 'fleet2'],
    ] as const) {
      const host = createBrokerHost({
        host: '127.0.0.1',
        port: 0,
        id: `broker-${name}`,
        topicPrefix: prefix,
        cluster: redisCluster(redis.url),
      });
      hosts.push(host);
      urls[name] = (await host.start()).url;
    }
  });
  afterAll(async () => {
    await pool.cleanup();
    for (const h of hosts) await h.stop();
    await redis.stop();
  });

  it("fleet1's intent crosses its two brokers and gets only fleet1's YES", async () => {
    const bt = (who: string) => [fixedHandler('want_chunk', 'bt', YES(who))];
    await pool.start(urls.a2, 'y1', { roles: ['bt'], handlers: bt('y1'), topicPrefix: 'fleet1' });
    await pool.start(urls.b, 'z1', { roles: ['bt'], handlers: bt('z1'), topicPrefix: 'fleet2' });
    const req = await pool.start(urls.a1, 'req1', { topicPrefix: 'fleet1' });
    const reqB = await pool.start(urls.b, 'req2', { topicPrefix: 'fleet2' });
    await until(() => req.roster.get('y1')?.online === true, 10_000, 'y1 in the roster of req1 (across brokers)');
    await until(() => reqB.roster.get('z1')?.online === true, 10_000, 'z1 in the roster of req2');

    const o = await req.declare('want_chunk', { subject: CHUNK, deadlineMs: 10_000 });
    expect(o.closedBy).toBe('all_answered');
    expect(o.expected).toEqual(['y1']);
    expect(o.yes.map((r) => r.envelope.from)).toEqual(['y1']);
    expect(req.roster.get('z1')).toBeUndefined();
    expect(reqB.roster.get('y1')).toBeUndefined();
  });

  it("a fleet1 node on fleet2's broker is refused as a prefix mismatch", async () => {
    await expect(
      pool.start(urls.b, 'lost1', { roles: ['bt'], topicPrefix: 'fleet1', startTimeoutMs: 10_000 }),
    ).rejects.toBeInstanceOf(BrokerPrefixMismatchError);
  });
});

/**
 * One client cannot silence a node, and a replaced board rejoins at once (protocol/incarnation.ts):
 * a real broker on a real port, real nodes, the old board a real process killed with SIGKILL.
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import type { DamesoNode } from '../../src/node.js';
import { encode } from '../../src/protocol/index.js';
import { connectClient, endAll } from '../helpers/broker-clients.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { fixedHandler, killHard, NodePool, spawnChildNode, until, YES } from '../helpers/node-fixtures.js';
import { presence } from '../protocol/fixtures.js';

// Shared by two brokers of one site: one store, one fan-out.
const require = createRequire(import.meta.url);
const memoryPersistence = require('aedes-persistence') as () => unknown;
const mqemitter = require('mqemitter') as () => MqEmitter;

interface MqEmitter {
  on(topic: string, fn: unknown, done?: () => void): unknown;
}

/**
 * The fan-out as a broker that does not take over sessions across brokers sees it (two Mosquittos
 * bridged, say): Aedes closes a client whose id connects at another broker of its cluster, which
 * would fire the old board's Will before its replacement is online, never late.
 */
function withoutCrossBrokerTakeover(mq: MqEmitter): MqEmitter {
  return new Proxy(mq, {
    get(target, key, receiver) {
      if (key !== 'on') return Reflect.get(target, key, receiver);
      return (topic: string, fn: unknown, done?: () => void) => {
        if (topic.endsWith('/new/clients')) return done?.();
        return target.on(topic, fn, done);
      };
    },
  });
}

const pool = new NodePool();
const brokers: BrokerHandle[] = [];
const children: Parameters<typeof killHard>[0][] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map(killHard));
  await pool.cleanup();
  await Promise.all(brokers.splice(0).map((b) => b.stop()));
});

async function broker(options: Parameters<typeof startAedes>[0] = {}): Promise<BrokerHandle> {
  const b = await startAedes(options);
  brokers.push(b);
  return b;
}

const responder = (url: string, dataDir?: string) =>
  pool.start(url, 'n3', {
    roles: ['bt'],
    handlers: [fixedHandler('want_chunk', 'bt', YES('from n3'))],
    ...(dataDir !== undefined ? { dataDir } : {}),
  });

/** Declares want_chunk to n3 and resolves with the outcome. */
async function ask(req: DamesoNode) {
  return req.declare('want_chunk', { subject: 'c', to: ['n3'], deadlineMs: 5_000 });
}

/** Starts and stops n3 on `dataDir` until its series has used `sessions` sessions. */
async function useSessions(url: string, dataDir: string, sessions: number): Promise<void> {
  for (let i = 0; i < sessions; i++) {
    const n = await responder(url, dataDir);
    await n.stop();
  }
}

describe('one client cannot silence a node', () => {
  it('a presence record for n3 from another client id (session 2^53-1) is dropped and counted; n3 still answers', async () => {
    const b = await broker();
    const n3 = await responder(b.url);
    const req = await pool.start(b.url, 'req');
    await until(() => req.roster.get('n3')?.online === true, 10_000, 'n3 online at req');

    const attacker = await connectClient(b.url, { clientId: 'not-n3' });
    const poison = presence('n3', { session: Number.MAX_SAFE_INTEGER, roles: ['bt'] });
    await attacker.publishAsync('dameso/v1/presence/n3', encode(poison), { qos: 1, retain: true });
    await attacker.publishAsync('dameso/v1/presence/n3', Buffer.alloc(0), { qos: 1, retain: true });
    expect(b.stats!().dropped.spoofed).toBe(2);

    const outcome = await ask(req);
    expect(outcome.closedBy).toBe('all_answered');
    expect(outcome.yes.map((r) => r.envelope.from)).toEqual(['n3']);
    expect(b.stats!().dropped.stale_session).toBe(0);
    // The retained record is still n3's own.
    expect(req.roster.get('n3')).toMatchObject({ online: true, session: n3.transport.session });
    await endAll(attacker);
  });
});

describe('a replaced board (empty data folder, same id) rejoins at once', () => {
  it('against a running broker that saw session 3: replies accepted, counted online, YES', async () => {
    const b = await broker();
    const req = await pool.start(b.url, 'req');
    const oldData = await pool.dir();
    await useSessions(b.url, oldData, 2);
    const old = await spawnChildNode(b.url, 'n3', 'yes', oldData);
    children.push(old);
    await until(() => req.roster.get('n3')?.session === 3 && req.roster.get('n3')?.online === true, 10_000, 'n3@3');
    expect((await ask(req)).yes.map((r) => r.envelope.session)).toEqual([3]);
    const oldEpoch = req.roster.get('n3')?.epoch;

    // The board dies (its Will: offline, session 3) and a new one with an empty card takes its id.
    await killHard(old);
    await until(() => req.roster.get('n3')?.online === false, 10_000, 'old n3 offline');
    const fresh = await responder(b.url, await pool.dir());
    expect(fresh.transport.session).toBe(1);
    expect(fresh.transport.epoch).not.toBe(oldEpoch);
    await until(() => req.roster.get('n3')?.online === true, 10_000, 'new n3 online at req');
    expect(req.roster.get('n3')).toMatchObject({ session: 1, epoch: fresh.transport.epoch });

    const outcome = await ask(req);
    expect(outcome.expected).toEqual(['n3']);
    expect(outcome.yes.map((r) => [r.envelope.from, r.envelope.session])).toEqual([['n3', 1]]);
    expect(b.stats!().dropped.stale_session).toBe(0);
  });

  it("the old board's late offline record (its Will, via a bridged broker) does not mark the new one offline", async () => {
    const persistence = memoryPersistence();
    const mq = mqemitter();
    const hub = await broker({ persistence, mq: () => mq });
    const edge = await broker({ persistence, mq: () => withoutCrossBrokerTakeover(mq) });
    const req = await pool.start(hub.url, 'req');
    const oldData = await pool.dir();
    await useSessions(edge.url, oldData, 2);
    // The old board hangs on to its connection at the edge broker (session 3)...
    const old = await spawnChildNode(edge.url, 'n3', 'yes', oldData);
    children.push(old);
    await until(() => req.roster.get('n3')?.session === 3, 10_000, 'n3@3');
    // ...while its replacement, on an empty card, comes up at the hub.
    const fresh = await responder(hub.url, await pool.dir());
    await until(() => req.roster.get('n3')?.epoch === fresh.transport.epoch, 10_000, 'new n3 at req');
    const staleBefore = req.roster.stats().stale;

    // Only now does the old board's connection die: its Will (epoch A, session 3, offline) goes out late.
    await killHard(old);
    await until(() => req.roster.stats().stale > staleBefore, 10_000, 'the late Will seen and ignored');
    expect(req.roster.get('n3')).toMatchObject({ online: true, session: 1, epoch: fresh.transport.epoch });
    const outcome = await ask(req);
    expect(outcome.yes.map((r) => [r.envelope.from, r.envelope.session])).toEqual([['n3', 1]]);

    // The new board saw its stored record clobbered and published it again: a newcomer sees it online.
    const late = await pool.start(hub.url, 'late');
    expect(late.roster.get('n3')).toMatchObject({ online: true, session: 1, epoch: fresh.transport.epoch });
  });
});

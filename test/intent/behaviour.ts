/**
 * The intent-layer behaviour suite, run against every broker: imported by
 * `behaviour.test.ts` (Aedes) and `test/interop/intents.test.ts` (Mosquitto). Real brokers, real
 * nodes with real series, a real child process killed with SIGKILL.
 */
import type { ChildProcess } from 'node:child_process';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { decode, encode } from '../../src/protocol/index.js';
import type { Entry } from '../../src/series/types.js';
import type { BrokerHandle } from '../helpers/brokers.js';
import {
  fixedHandler,
  killHard,
  NO_FULL,
  NodePool,
  SILENCE,
  spawnChildNode,
  until,
  YES,
} from '../helpers/node-fixtures.js';

export interface SuiteBroker {
  name: string;
  /** A broker that passes every publish through (no envelope check), so nodes meet raw garbage. */
  start(): Promise<BrokerHandle>;
}

const R = 'dameso/v1';
const bt = (answer: Parameters<typeof fixedHandler>[2], delayMs = 0) => [
  fixedHandler('want_chunk', 'bt', answer, delayMs),
];

async function readAll(series: { read(q?: object): AsyncIterable<Entry> }, event?: string): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const e of series.read(event === undefined ? {} : { event })) out.push(e);
  return out;
}

async function rawClient(url: string): Promise<mqtt.MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 4, clientId: `raw-${Math.random().toString(36).slice(2)}` });
}

export function intentBehaviour(b: SuiteBroker): void {
  describe(`intents over ${b.name}`, () => {
    let broker: BrokerHandle;
    let pool: NodePool;
    const children: ChildProcess[] = [];

    beforeEach(async () => {
      broker = await b.start();
      pool = new NodePool();
    });
    afterEach(async () => {
      for (const c of children.splice(0)) await killHard(c);
      await pool.cleanup();
      await broker.stop();
    });

    test('classifies YES, NO, silence, offline (SIGKILL → Will), unexpected, and ignores a late joiner', async () => {
      const url = broker.url;
      await pool.start(url, 'y', { roles: ['bt'], handlers: bt(YES('Y')) });
      await pool.start(url, 'n', { roles: ['bt'], handlers: bt(NO_FULL) });
      const s = await pool.start(url, 's', { roles: ['bt'], handlers: bt(SILENCE) });
      // A node the roster does not know yet (no presence published): its reply is unexpected.
      await pool.start(url, 'u', { roles: ['bt'], announce: false, handlers: bt(YES('U')) });
      const k = await spawnChildNode(url, 'k', 'silence', await pool.dir());
      children.push(k);
      const req = await pool.start(url, 'req');
      await until(() => ['y', 'n', 's', 'k'].every((id) => req.roster.get(id)?.online === true), 10_000, 'roster');

      const intent = req.declare('want_chunk', { subject: 'c1', deadlineMs: 3_000 });
      expect([...intent.expected].sort()).toEqual(['k', 'n', 's', 'y']);
      const seen = new Set<string>();
      for await (const r of intent) {
        seen.add(r.envelope.from);
        if (seen.has('y') && seen.has('n') && seen.has('u')) break;
      }
      await killHard(k); // inside the window: the broker publishes k's Will (same session)
      await pool.start(url, 'j', { roles: ['bt'], handlers: bt(YES('J')) }); // joins after declaration
      const o = await intent;

      expect(o.closedBy).toBe('deadline');
      expect(o.yes.map((r) => [r.envelope.from, r.unexpected]).sort()).toEqual([
        ['u', true],
        ['y', false],
      ]);
      expect(o.no.map((r) => [r.envelope.from, r.envelope.reason])).toEqual([['n', 'storage_full']]);
      expect(o.no[0]?.envelope.lim).toBeDefined();
      expect(o.offline).toEqual(['k']);
      expect(o.silence).toEqual(['s']);
      expect(o.expected).not.toContain('j');

      await req.series.flush();
      const rec = (await readAll(req.series, 'intent_outcome')).find((e) => e.id === o.id);
      expect(rec).toMatchObject({ offline: ['k'], silence: ['s'], closedBy: 'deadline' });
      expect((rec!.yes as { node: string }[]).map((x) => x.node).sort()).toEqual(['u', 'y']);
      expect(JSON.stringify(rec)).not.toContain('"Y"'); // compact: no data blobs in the series
      await s.series.flush();
      const decisions = (await readAll(s.series, 'decision')).filter((e) => e.id === o.id);
      expect(decisions).toHaveLength(1);
      expect(decisions[0]).toMatchObject({ r: 'yes', outcome: 'silence' });
      expect((decisions[0]!.lim as Record<string, number>).economic).toBe(1);
    });

    test('closes at the slowest answer when every expected node answers, not at the deadline', async () => {
      const url = broker.url;
      const delays = [0, 40, 150];
      for (const [i, d] of delays.entries()) await pool.start(url, `a${i}`, { roles: ['bt'], handlers: bt(YES(i), d) });
      const req = await pool.start(url, 'req');
      await until(() => req.roster.online().length >= 3, 10_000, 'roster');
      const deadlineMs = 20_000;
      const o = await req.declare('want_chunk', { subject: 'c', deadlineMs });
      expect(o.closedBy).toBe('all_answered');
      expect(o.yes).toHaveLength(3);
      expect(o.silence).toEqual([]);
      const slowest = Math.max(...o.yes.map((r) => r.latencyMs));
      expect(o.elapsedMs).toBeGreaterThanOrEqual(slowest);
      expect(o.elapsedMs).toBeLessThan(deadlineMs);
    });

    test('broker stopped mid-intent and restarted: new sessions, stale Wills ignored, series intact', async () => {
      const url = broker.url;
      const y1 = await pool.start(url, 'y1', { roles: ['bt'], handlers: bt(YES(1), 100) });
      const y2 = await pool.start(url, 'y2', { roles: ['bt'], handlers: bt(YES(2)) });
      const req = await pool.start(url, 'req');
      await until(() => req.roster.get('y1')?.online === true && req.roster.get('y2')?.online === true);
      const nodes = [y1, y2, req];
      const before = nodes.map((n) => n.transport.session);
      const lastSeq = nodes.map((n) => n.series.lastSeq);

      const first = req.declare('want_chunk', { subject: 'mid', deadlineMs: 1_500 });
      await broker.restart();
      const o1 = await first;
      expect(o1.expected.sort()).toEqual(['y1', 'y2']);
      await until(
        () => nodes.every((n, i) => n.transport.connected && n.transport.session > (before[i] ?? 0)),
        15_000,
        'reconnect',
      );
      await until(
        () =>
          ['y1', 'y2'].every((id) => req.roster.get(id)?.session === nodes.find((n) => n.id === id)?.transport.session),
        10_000,
        'new sessions in the roster',
      );

      // A late Will of y1's old connection (older session) must be ignored by everyone.
      const raw = await rawClient(url);
      const stale = { v: 1, node: 'y1', session: before[0], state: 'offline', roles: ['bt'], t: Date.now() };
      const staleBefore = req.roster.stats().stale;
      await raw.publishAsync(`${R}/presence/y1`, encode(stale), { qos: 1, retain: true });
      await until(() => req.roster.stats().stale > staleBefore, 10_000, 'stale record seen');
      expect(req.roster.get('y1')?.online).toBe(true);
      // y1 saw its record overwritten by a stale Will and published its online record again.
      const sub = await rawClient(url);
      const fresh = new Promise<Record<string, unknown>>((resolve) => {
        sub.on('message', (_t, p) => {
          const d = p.length > 0 ? (decode(p) as Record<string, unknown>) : undefined;
          if (d?.state === 'online') resolve(d);
        });
      });
      await sub.subscribeAsync(`${R}/presence/y1`);
      expect((await fresh).session).toBe(y1.transport.session);
      await sub.endAsync();
      await raw.endAsync();

      const o2 = await req.declare('want_chunk', { subject: 'after', deadlineMs: 5_000 });
      expect(o2.closedBy).toBe('all_answered');
      expect(o2.yes.map((r) => r.envelope.from).sort()).toEqual(['y1', 'y2']);
      expect(o2.yes.every((r) => r.envelope.session > 1)).toBe(true);

      for (const [i, n] of nodes.entries()) {
        await n.series.flush();
        const all = await readAll(n.series);
        for (let j = 1; j < all.length; j++) expect(all[j]?.seq).toBe((all[j - 1]?.seq ?? 0) + 1);
        expect(all.at(-1)?.seq).toBe(n.series.lastSeq);
        expect(n.series.lastSeq).toBeGreaterThan(lastSeq[i] ?? 0);
        expect((await readAll(n.series, 'session_started')).length).toBeGreaterThanOrEqual(2);
      }
      const outcomes = await readAll(req.series, 'intent_outcome');
      expect(outcomes.map((e) => e.id)).toEqual(expect.arrayContaining([o1.id, o2.id]));
    });

    test('garbage on every dameso topic is counted and dropped; nodes keep answering', async () => {
      const url = broker.url;
      const y = await pool.start(url, 'y', { roles: ['bt'], handlers: bt(YES('Y'), 20) });
      const req = await pool.start(url, 'req');
      await y.transport.subscribe(y.transport.topics.haveFilter(), () => {});
      await until(() => req.roster.get('y')?.online === true);
      const raw = await rawClient(url);
      const chunk = 'a'.repeat(64);
      const topics = [
        `${R}/presence/evil`,
        `${R}/intent/want_chunk`,
        `${R}/reply/req`,
        `${R}/reply/y`,
        `${R}/have/${chunk}/evil`,
      ];
      const huge = Buffer.alloc(1_048_576 + 100, 0xa1);
      const payloads: Buffer[] = [
        Buffer.from([0xff, 0x00, 0x13, 0x37]),
        encode(42),
        encode(['v', 1]),
        encode({ v: 1, id: 7, from: ['x'], session: 'one', kind: 3, t: 'now', deadline: -1 }),
        encode({ v: 2, node: 'evil' }),
        huge,
      ];
      for (const t of topics) for (const p of payloads) await raw.publishAsync(t, p, { qos: 1 });

      // Spoofed: an intent "from req" and a reply "from y", both with an older session.
      const intent = req.declare('want_chunk', { subject: 'g', deadlineMs: 5_000 });
      await raw.publishAsync(
        `${R}/intent/want_chunk`,
        encode({ v: 1, id: 'spoof1', from: 'req', session: 0, kind: 'want_chunk', t: Date.now(), deadline: 1000 }),
      );
      await raw.publishAsync(
        `${R}/reply/req`,
        encode({ v: 1, id: intent.id, from: 'y', session: 0, r: 'no', reason: 'cpu_busy' }),
      );
      const o = await intent;
      expect(o.yes.map((r) => r.envelope.from)).toEqual(['y']);
      expect(o.no).toEqual([]);

      await until(() => y.stats().intents.answer.staleSession >= 1 && req.stats().intents.declare.staleSession >= 1);
      const yr = y.stats().transport.rejected;
      for (const reason of ['bad_cbor', 'bad_envelope', 'too_large', 'bad_version'])
        expect(yr[reason] ?? 0).toBeGreaterThan(0);
      expect(req.stats().transport.rejected.bad_cbor ?? 0).toBeGreaterThan(0);
      expect(req.roster.get('evil')).toBeUndefined();
      // Still answering valid intents after all that.
      const again = await req.declare('want_chunk', { subject: 'g2', deadlineMs: 5_000 });
      expect(again.yes.map((r) => r.envelope.from)).toEqual(['y']);
      await raw.endAsync();
    });

    test('declares only once it holds the retained roster (hundreds of retained records)', async () => {
      const url = broker.url;
      const raw = await rawClient(url);
      const ghosts = 400;
      const pubs: Promise<unknown>[] = [];
      for (let i = 0; i < ghosts + 100; i++) {
        const online = i < ghosts;
        const env = {
          v: 1,
          node: `g${i}`,
          session: 3,
          state: online ? 'online' : 'offline',
          roles: ['bt'],
          t: Date.now(),
        };
        pubs.push(raw.publishAsync(`${R}/presence/g${i}`, encode(env), { qos: 1, retain: true }));
      }
      await Promise.all(pubs);
      await raw.endAsync();
      // A short-lived (CLI-style) node: no presence of its own, default quiet window.
      const req = await pool.start(url, 'cli', { announce: false, rosterQuietMs: undefined });
      expect(req.roster.isReady).toBe(true);
      expect(req.roster.online().length).toBe(ghosts);
      const o = await req.declare('want_chunk', { subject: 'x', deadlineMs: 50 });
      expect(o.expected).toHaveLength(ghosts);
      expect(o.silence).toHaveLength(ghosts);
    });
  });
}

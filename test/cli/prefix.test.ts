/**
 * `--prefix` end to end, with real processes: a `dameso broker --prefix fleet1`, a `dameso node`
 * and the short-lived commands of the same fleet answer each other; commands under another prefix
 * see none of it; and two fleets with their own prefixes on one broker that checks no prefix
 * (`--no-check`) never see each other.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSeries } from '../../src/series/index.js';
import { type BrokerHandle, startHostedAedes } from '../helpers/brokers.js';
import { printed, runCli, spawnCli } from '../helpers/node-cli.js';
import { fixedHandler, NodePool, until, YES } from '../helpers/node-fixtures.js';

let root: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dameso-prefix-'));
});
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A chunk of a small series, written to `file`; its id. */
async function chunkFile(dir: string, file: string): Promise<string> {
  const s = createSeries({ dir, durability: 'none' });
  await s.open();
  for (let i = 0; i < 5; i++) await s.append({ event: 'reading', i });
  const chunk = await s.chunk(1, s.lastSeq, 'pi-7');
  await s.close();
  await writeFile(file, chunk.bytes);
  return chunk.id;
}

describe('dameso broker --prefix fleet1 with a node and commands of fleet1', () => {
  let broker: BrokerHandle;
  beforeAll(async () => {
    broker = await startHostedAedes({ args: ['--prefix', 'fleet1'] });
  });
  afterAll(async () => {
    await broker.stop();
  });

  it('intent and chunks with --prefix fleet1 reach the node; without it they see no node', async () => {
    const file = join(root, 'c.cbor');
    const id = await chunkFile(join(root, 'src'), file);
    const bt = spawnCli([
      'node',
      '--id',
      'bt1',
      '--roles',
      'bt',
      '--prefix',
      'fleet1',
      '--data',
      join(root, 'bt1'),
      '--broker',
      broker.url,
    ]);
    children.push(bt);
    await printed(bt, `on ${broker.url} (prefix fleet1), data`); // the node's start line

    const stored = await runCli([
      'intent',
      'store_chunk',
      '--subject',
      id,
      '--body-file',
      file,
      '--to',
      'bt1',
      '--prefix',
      'fleet1',
      '--broker',
      broker.url,
      '--json',
    ]);
    expect(stored.code, stored.stderr).toBe(0);
    const outcome = JSON.parse(stored.stdout) as { yes: { node: string }[] };
    expect(outcome.yes.map((y) => y.node)).toEqual(['bt1']);

    const who = await runCli(['chunks', 'who-has', id, '--prefix', 'fleet1', '--broker', broker.url, '--json']);
    expect(who.code, who.stderr).toBe(0);
    expect((JSON.parse(who.stdout) as { holders: { node: string }[] }).holders.map((h) => h.node)).toEqual(['bt1']);

    // The default prefix is another fleet: bt1 is not online there.
    const other = await runCli(['intent', 'want_chunk', '--subject', id, '--to', 'bt1', '--broker', broker.url]);
    expect(other.code, other.stderr).toBe(69);
    expect(other.stderr).toContain('--to bt1: not online');
    expect(other.stderr).toContain('no node at all is online under --prefix dameso (topics dameso/v1/…)');
  }, 60_000);
});

describe('two fleets with their own --prefix on one broker that checks no prefix', () => {
  let broker: BrokerHandle;
  const pool = new NodePool();
  beforeAll(async () => {
    broker = await startHostedAedes({ args: ['--no-check'] });
  });
  afterAll(async () => {
    await pool.cleanup();
    await broker.stop();
  });

  it('each fleet sees and answers only its own nodes', async () => {
    const bt = (who: string) => [fixedHandler('want_chunk', 'bt', YES(who))];
    await pool.start(broker.url, 'a1', { roles: ['bt'], handlers: bt('a1'), topicPrefix: 'fleet1' });
    await pool.start(broker.url, 'b1', { roles: ['bt'], handlers: bt('b1'), topicPrefix: 'fleet2' });
    const reqA = await pool.start(broker.url, 'req-a', { topicPrefix: 'fleet1' });
    const reqB = await pool.start(broker.url, 'req-b', { topicPrefix: 'fleet2' });
    await until(() => reqA.roster.get('a1')?.online === true, 10_000, 'a1 in the roster of fleet1');
    await until(() => reqB.roster.get('b1')?.online === true, 10_000, 'b1 in the roster of fleet2');
    expect(reqA.roster.get('b1')).toBeUndefined();
    expect(reqB.roster.get('a1')).toBeUndefined();

    const subject = 'ab'.repeat(32);
    for (const [prefix, node] of [
      ['fleet1', 'a1'],
      ['fleet2', 'b1'],
    ] as const) {
      const r = await runCli([
        'intent',
        'want_chunk',
        '--subject',
        subject,
        '--prefix',
        prefix,
        '--broker',
        broker.url,
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const o = JSON.parse(r.stdout) as { expected: string[]; yes: { node: string }[] };
      expect(o.yes.map((y) => y.node)).toEqual([node]);
      expect(o.expected).toEqual([node]);
    }
  }, 60_000);
});

describe('dameso fleet --prefix', () => {
  it('its embedded broker, nodes and requester share the prefix: every intent reaches every node', async () => {
    const r = await runCli(
      ['fleet', '--nodes', '2', '--duration', '1', '--rate', '5', '--prefix', 'fleet1', '--json'],
      60_000,
    );
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { ok: boolean; closed: number; expected: number };
    expect(s.ok).toBe(true);
    expect(s.closed).toBeGreaterThan(0);
    expect(s.expected).toBe(2 * s.closed);
  }, 90_000);
});

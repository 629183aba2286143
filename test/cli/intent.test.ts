import { afterAll, beforeAll, expect, test } from 'vitest';
import type { DamesoNode } from '../../src/node.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { runCli } from '../helpers/node-cli.js';
import { fixedHandler, NO_FULL, NodePool, YES } from '../helpers/node-fixtures.js';

let broker: BrokerHandle;
const pool = new NodePool();
let yes: DamesoNode;

beforeAll(async () => {
  broker = await startAedes(); // the dameso broker host, envelope checks on
  yes = await pool.start(broker.url, 'holder', {
    roles: ['bt'],
    handlers: [fixedHandler('want_chunk', 'bt', YES(Buffer.from('hi')))],
  });
  await pool.start(broker.url, 'full', { roles: ['bt'], handlers: [fixedHandler('want_chunk', 'bt', NO_FULL)] });
});
afterAll(async () => {
  await pool.cleanup();
  await broker.stop();
});

test('dameso intent --json: a short-lived node waits for the roster, declares, prints the outcome', async () => {
  const r = await runCli([
    'intent',
    'want_chunk',
    '--subject',
    'abc',
    '--deadline',
    '5000',
    '--broker',
    broker.url,
    '--json',
  ]);
  expect(r.code).toBe(0);
  const o = JSON.parse(r.stdout.trim()) as Record<string, unknown> & {
    yes: { node: string; data: string }[];
    no: { node: string; reason: string }[];
  };
  expect(o).toMatchObject({ kind: 'want_chunk', subject: 'abc', closedBy: 'all_answered', silence: [], offline: [] });
  expect((o.expected as string[]).sort()).toEqual(['full', 'holder']);
  expect(o.yes.map((x) => [x.node, x.data])).toEqual([['holder', Buffer.from('hi').toString('base64')]]);
  expect(o.no.map((x) => [x.node, x.reason])).toEqual([['full', 'storage_full']]);
  expect(yes.intents.stats().answer.yes).toBeGreaterThan(0);
});

test('dameso intent (human) with --to, and usage errors exit 64', async () => {
  const r = await runCli([
    'intent',
    'want_chunk',
    '--subject',
    'abc',
    '--to',
    'holder',
    '--deadline',
    '5000',
    '--broker',
    broker.url,
  ]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/closed by all_answered/);
  expect(r.stdout).toMatch(/yes +holder/);
  const bad = await runCli(['intent', 'want_chunk', '--subject', 'abc', '--body', '{nope', '--broker', broker.url]);
  expect(bad.code).toBe(64);
  expect(bad.stderr).toMatch(/--body must be JSON/);
});

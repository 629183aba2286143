/**
 * `dameso tap` as a user runs it (a real child process) against a real broker host with real
 * nodes: an intent and its replies decoded, filters, a malformed publish, a closed stdout pipe,
 * a refused password; and the decoder alone on what the broker would drop.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterEach, expect, test } from 'vitest';
import { createBrokerHost, createFileAuth, setCredential } from '../../broker/index.js';
import type { BrokerHostOptions } from '../../broker/types.js';
import { parseKinds } from '../../src/cli/tap.js';
import { encode } from '../../src/protocol/index.js';
import { decodeTap, IntentTimes, type TapEvent, tapLine } from '../../src/tap/index.js';
import { finished, runCli, spawnCli } from '../helpers/node-cli.js';
import { fixedHandler, NO_FULL, NodePool, until, YES } from '../helpers/node-fixtures.js';

const R = 'dameso/v1';
const CHUNK = 'c'.repeat(64);
const pool = new NodePool();
const hosts: ReturnType<typeof createBrokerHost>[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await pool.cleanup();
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
});

async function broker(options: BrokerHostOptions = {}): Promise<string> {
  const host = createBrokerHost({ host: '127.0.0.1', port: 0, ...options });
  hosts.push(host);
  return (await host.start()).url;
}

/** A running tap: its parsed jsonl events so far, and its exit. */
async function startTap(args: string[]) {
  const child = spawnCli(['tap', ...args]);
  children.push(child);
  const done = finished(child);
  const events: TapEvent[] = [];
  let buffered = '';
  child.stdout?.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const l of lines) events.push(JSON.parse(l) as TapEvent);
  });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('tap: listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`tap exited ${code} before listening: ${err}`)));
  });
  return { child, done, events };
}

test('an intent and its replies, decoded: yes and no with the reason, ms since the intent; --kind and --node filter', async () => {
  const url = await broker();
  await pool.start(url, 'n1', { roles: ['bt'], handlers: [fixedHandler('want_chunk', 'bt', YES())] });
  await pool.start(url, 'n2', { roles: ['bt'], handlers: [fixedHandler('want_chunk', 'bt', NO_FULL)] });
  const all = await startTap(['--broker', url, '--json']);
  const replies = await startTap(['--broker', url, '--json', '--kind', 'reply', '--node', 'n2']);
  // The retained roster came first.
  await until(() => all.events.filter((e) => e.type === 'presence').length >= 2, 10_000, 'retained presence');

  const req = await pool.start(url, 'req');
  const intent = req.declare('want_chunk', { subject: CHUNK, deadlineMs: 2_000 });
  await intent;
  const forIntent = () => all.events.filter((e) => 'id' in e && e.id === intent.id);
  await until(() => forIntent().length >= 3, 10_000, 'the intent and two replies in the tap');
  expect(forIntent()[0]).toMatchObject({ type: 'intent', from: 'req', kind: 'want_chunk', subject: CHUNK });
  const byNode = Object.fromEntries(
    forIntent()
      .filter((e) => e.type === 'reply')
      .map((e) => [(e as { from: string }).from, e]),
  );
  expect(byNode.n1).toMatchObject({ type: 'reply', r: 'yes', to: 'req', elapsedMs: expect.any(Number) });
  expect(byNode.n2).toMatchObject({ type: 'reply', r: 'no', reason: 'storage_full', to: 'req' });
  expect((byNode.n2 as { elapsedMs: number }).elapsedMs).toBeGreaterThanOrEqual(0);
  expect(all.events.some((e) => e.type === 'presence' && e.from === 'req')).toBe(true);

  await until(() => replies.events.length >= 1, 10_000, 'the filtered tap saw the reply of n2');
  expect(replies.events.every((e) => e.type === 'reply' && e.from === 'n2')).toBe(true);

  for (const t of [all, replies]) t.child.kill('SIGINT');
  expect((await all.done).code).toBe(0);
  expect((await replies.done).code).toBe(0);
});

test('a malformed publish is one `malformed` line with its topic (broker check off), and the tap goes on', async () => {
  const url = await broker({ checkEnvelopes: false });
  const tap = await startTap(['--broker', url, '--json', '--kind', 'malformed,intent']);
  const raw = await mqtt.connectAsync(url, { protocolVersion: 4 });
  await raw.publishAsync(`${R}/intent/want_chunk`, Buffer.from('garbage, not CBOR'));
  const good = { v: 1, id: '01J0000000000000000000000A', from: 'x', session: 1, kind: 'want_chunk', t: 1, deadline: 9 };
  await raw.publishAsync(`${R}/intent/want_chunk`, encode(good));
  await until(() => tap.events.length >= 2, 10_000, 'both lines');
  expect(tap.events[0]).toMatchObject({
    type: 'malformed',
    topic: `${R}/intent/want_chunk`,
    reason: expect.any(String),
  });
  expect(tap.events[1]).toMatchObject({ type: 'intent', id: good.id });
  await raw.endAsync();
  tap.child.kill('SIGTERM');
  const r = await tap.done;
  expect(r.code).toBe(0);
});

test('a broker that goes away is waited for: the tap says so on stderr and prints what comes after', async () => {
  const url = await broker();
  const host = hosts[0];
  const tap = await startTap(['--broker', url, '--json', '--kind', 'presence']);
  let stderr = '';
  tap.child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  await host?.stop();
  await until(() => stderr.includes('tap: lost'), 10_000, 'the tap noticed');
  await host?.start();
  await until(() => stderr.includes('tap: back'), 15_000, 'the tap reconnected');
  await pool.start(url, 'late');
  await until(() => tap.events.some((e) => e.type === 'presence' && e.from === 'late'), 10_000, 'presence after');
  tap.child.kill('SIGINT');
  expect((await tap.done).code).toBe(0);
});

test('a closed stdout pipe (the reader went away) stops the tap quietly, exit 0', async () => {
  const url = await broker();
  const tap = await startTap(['--broker', url]);
  tap.child.stdout?.destroy();
  // Traffic for it to write: a node's presence and sync records.
  await pool.start(url, 'p1');
  const r = await tap.done;
  expect(r.code).toBe(0);
  expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
});

test('under broker authentication: a refused password is one line, exit 78', async () => {
  const dir = await pool.dir();
  const file = path.join(dir, 'users');
  await setCredential(file, 'ops-tap', 'right-password-1', { ln: 10, r: 8, p: 1 });
  const url = await broker({ auth: await createFileAuth({ file }) });
  const secret = path.join(dir, 'wrong.secret');
  await writeFile(secret, 'wrong-password-1\n');
  const r = await runCli(['tap', '--broker', url, '--id', 'ops-tap', '--password-file', secret]);
  expect(r.code).toBe(78);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/refused node ops-tap \(CONNACK 5.*\[DAMESO_BAD_CONFIG\]/);
});

test('the decoder: garbage is malformed, never a throw; a reply to an unseen intent has no elapsed ms; bounded memory', () => {
  const c = { root: R, intents: new IntentTimes(2), now: Date.UTC(2026, 0, 1, 12), monotonic: 100 };
  const bad = decodeTap(`${R}/reply/req`, Buffer.from([0xff, 0x00]), false, c);
  expect(bad).toMatchObject({ type: 'malformed', topic: `${R}/reply/req` });
  expect(tapLine(bad as TapEvent)).toMatch(/^12:00:00\.000 malformed dameso\/v1\/reply\/req: /);
  expect(decodeTap(`${R}/nope/x`, Buffer.from([0xa0]), false, c)).toMatchObject({
    type: 'malformed',
    reason: 'bad_topic',
  });
  expect(decodeTap('other/topic', Buffer.from('x'), false, c)).toBeUndefined();

  const reply = { v: 1, id: 'i1', from: 'n1', session: 2, r: 'no', reason: 'cpu_busy' };
  const unseen = decodeTap(`${R}/reply/req`, encode(reply), false, c);
  expect(unseen).toMatchObject({ type: 'reply', r: 'no', reason: 'cpu_busy', elapsedMs: null });
  expect(tapLine(unseen as TapEvent)).toBe('12:00:00.000 reply     no cpu_busy from n1 to req id i1 (intent not seen)');
  const intent = { v: 1, id: 'i1', from: 'req', session: 1, kind: 'want_chunk', t: 1, deadline: 500 };
  decodeTap(`${R}/intent/want_chunk`, encode(intent), false, c);
  expect(decodeTap(`${R}/reply/req`, encode(reply), false, { ...c, monotonic: 112.5 })).toMatchObject({
    elapsedMs: 12.5,
  });
  // Two more intents push the first out of the bounded table.
  for (const id of ['i2', 'i3']) decodeTap(`${R}/intent/want_chunk`, encode({ ...intent, id }), false, c);
  expect(decodeTap(`${R}/reply/req`, encode(reply), false, c)).toMatchObject({ elapsedMs: null });
});

test('--kind takes known message types only', () => {
  expect([...parseKinds('reply,intent')]).toEqual(['reply', 'intent']);
  expect(parseKinds(undefined).size).toBe(6);
  expect(() => parseKinds('replies')).toThrow(expect.objectContaining({ code: 'DAMESO_USAGE' }));
});

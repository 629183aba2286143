/**
 * Settings that would open a hole: authentication without the envelope check (the ACL leaves the
 * sender of intents and replies to it) is refused at start; `$SYS/#` is not every client's business.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setCredential } from '../../broker/index.js';
import { connectClient, endAll } from '../helpers/broker-clients.js';
import { type BrokerHandle, startAedes, startHostedAedes } from '../helpers/brokers.js';
import { runCli } from '../helpers/node-cli.js';

const CHEAP = { ln: 10, r: 8, p: 1 };
let dir: string;
let users: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dameso-hostile-settings-'));
  users = path.join(dir, 'broker.users');
  await setCredential(users, 'n1', 'n1-password-long-enough', CHEAP);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

let handle: BrokerHandle | undefined;
afterEach(async () => {
  await handle?.stop();
  handle = undefined;
});

describe('--auth-file with --no-check', () => {
  it('is refused at start with one line and exit 78, by flag and by config key', async () => {
    const byFlag = await runCli(['broker', '--port', '0', '--auth-file', users, '--no-check']);
    expect(byFlag.code).toBe(78);
    const lines = byFlag.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^dameso: config "check": authentication needs the envelope check.*\[DAMESO_BAD_CONFIG\]$/,
    );
    expect(byFlag.stdout).toBe('');

    const config = path.join(dir, 'broker.json');
    await writeFile(config, JSON.stringify({ port: 0, authFile: users, check: false }));
    const byFile = await runCli(['broker', '--config', config]);
    expect(byFile.code).toBe(78);
    expect(byFile.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('$SYS/# without auth', () => {
  it('is denied and counted unless allowed', async () => {
    handle = await startAedes();
    const spy = await connectClient(handle.url);
    // SUBACK 0x80: mqtt.js rejects the subscription.
    await expect(spy.subscribeAsync('$SYS/#', { qos: 0 })).rejects.toThrow(/Subscribe error/);
    await expect(spy.subscribeAsync('$SYS/+/clients/connected', { qos: 0 })).rejects.toThrow(/Subscribe error/);
    expect(handle.stats!().sysDenied).toBe(2);
    // Other subscriptions are untouched.
    await expect(spy.subscribeAsync('dameso/v1/presence/+', { qos: 1 })).resolves.toHaveLength(1);
    await endAll(spy);
    await handle.stop();

    handle = await startAedes({ allowSys: true });
    const tool = await connectClient(handle.url);
    await expect(tool.subscribeAsync('$SYS/#', { qos: 0 })).resolves.toEqual([{ topic: '$SYS/#', qos: 0 }]);
    expect(handle.stats!().sysDenied).toBe(0);
    await endAll(tool);
  });

  it('dameso broker --allow-sys lets a monitoring client subscribe; without it the subscription is refused', async () => {
    handle = await startHostedAedes();
    const denied = await connectClient(handle.url);
    await expect(denied.subscribeAsync('$SYS/#', { qos: 0 })).rejects.toThrow(/Subscribe error/);
    await endAll(denied);
    await handle.stop();

    handle = await startHostedAedes({ args: ['--allow-sys'] });
    const tool = await connectClient(handle.url);
    await expect(tool.subscribeAsync('$SYS/#', { qos: 0 })).resolves.toEqual([{ topic: '$SYS/#', qos: 0 }]);
    await endAll(tool);
  });
});

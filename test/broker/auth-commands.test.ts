/**
 * `dameso intent` and `dameso chunks` (short-lived nodes) against a broker that authenticates:
 * `--password-file` with `--id` gets in, no password or a wrong one is a config error (exit 78).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerHost, createBrokerHost, createFileAuth, setCredential } from '../../broker/index.js';
import { runCli } from '../helpers/node-cli.js';
import { fixedHandler, NodePool, YES } from '../helpers/node-fixtures.js';

const CHEAP = { ln: 10, r: 8, p: 1 };
const CHUNK = 'a'.repeat(64);

describe('short-lived CLI nodes against a broker that authenticates', () => {
  let dir: string;
  let host: BrokerHost;
  let url: string;
  let secret: string;
  const pool = new NodePool();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'dameso-auth-commands-'));
    const file = path.join(dir, 'broker.users');
    await setCredential(file, 'resp', 'resp-password', CHEAP);
    await setCredential(file, 'ops', 'ops-password', CHEAP);
    host = createBrokerHost({ port: 0, auth: await createFileAuth({ file }) });
    url = (await host.start()).url;
    secret = path.join(dir, 'ops.secret');
    await writeFile(secret, 'ops-password\n', { mode: 0o600 });
    await pool.start(url, 'resp', {
      roles: ['bt'],
      brokerPassword: 'resp-password',
      handlers: [fixedHandler('want_chunk', 'bt', YES('here'))],
    });
  });
  afterAll(async () => {
    await pool.cleanup();
    await host.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('dameso intent --id ops --password-file gets the responder answer', async () => {
    const r = await runCli([
      'intent',
      'want_chunk',
      '--subject',
      CHUNK,
      '--broker',
      url,
      '--id',
      'ops',
      '--password-file',
      secret,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const outcome = JSON.parse(r.stdout);
    expect(outcome.yes).toMatchObject([{ node: 'resp', r: 'yes', data: 'here' }]);
    expect(r.stdout + r.stderr).not.toContain('ops-password');
    expect(host.stats().aclDenied).toEqual({ publish: 0, subscribe: 0 });
  });

  it('dameso intent without a password file is refused with the typed not-authorized error, exit 78', async () => {
    const refusedBefore = host.stats().authRefusedTotal;
    const r = await runCli(['intent', 'want_chunk', '--subject', CHUNK, '--broker', url, '--id', 'ops']);
    expect(r.code).toBe(78);
    // One line (the command's), saying what is missing.
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^dameso: .*requires a password \(CONNACK 5\) and none was given: add --password-file.*\[DAMESO_BAD_CONFIG\]\n$/,
    );
    expect(host.stats().authRefusedTotal).toBe(refusedBefore + 1);
  });

  it('dameso intent with a missing or empty password file exits 78 before connecting; without --id 64', async () => {
    const refusedBefore = host.stats().authRefusedTotal;
    const base = ['intent', 'want_chunk', '--subject', CHUNK, '--broker', url, '--id', 'ops'];
    const missing = await runCli([...base, '--password-file', path.join(dir, 'nope')]);
    expect(missing.code).toBe(78);
    expect(missing.stderr).toMatch(/^dameso: .*--password-file.*cannot read.*ENOENT.*\n$/);
    expect(missing.stderr.split('\n')).toHaveLength(2); // one line
    const empty = path.join(dir, 'empty.secret');
    await writeFile(empty, '\n');
    const blank = await runCli([...base, '--password-file', empty]);
    expect(blank.code).toBe(78);
    expect(blank.stderr).toMatch(/^dameso: .*--password-file.*is empty.*\n$/);
    expect(blank.stderr.split('\n')).toHaveLength(2);
    const noId = await runCli(['intent', 'want_chunk', '--subject', CHUNK, '--broker', url, '--password-file', secret]);
    expect(noId.code).toBe(64);
    expect(noId.stderr).toMatch(/--password-file needs --id/);
    expect(host.stats().authRefusedTotal).toBe(refusedBefore);
  });

  it('dameso chunks who-has: in with the password file, a wrong one exits 78', async () => {
    const ok = await runCli(['chunks', 'who-has', CHUNK, '--broker', url, '--id', 'ops', '--password-file', secret]);
    expect(ok).toMatchObject({ code: 0, stdout: `${CHUNK}: nobody announces it\n` });
    const wrong = path.join(dir, 'wrong.secret');
    await writeFile(wrong, 'not-the-password\n');
    const refused = await runCli([
      'chunks',
      'who-has',
      CHUNK,
      '--broker',
      url,
      '--id',
      'ops',
      '--password-file',
      wrong,
    ]);
    expect(refused.code).toBe(78);
    expect(refused.stderr).toMatch(/refused node ops \(CONNACK 5, not authorized\)/);
    expect(refused.stderr).not.toContain('not-the-password');
  });
});

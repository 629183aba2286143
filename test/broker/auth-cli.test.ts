import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileAuth, parseCredentials, setCredential, verifyPassword } from '../../broker/auth.js';
import { createBrokerHost } from '../../broker/host.js';
import { connectClient } from '../helpers/broker-clients.js';
import { finished, printed, runCli, spawnCli } from '../helpers/node-cli.js';

const MAIN = 'src/cli/main.ts';
const CHEAP = { ln: 10, r: 8, p: 1 };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dameso-auth-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `dameso ARGS` with `input` piped on stdin. */
function runWithStdin(args: string[], input: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const done = finished(child);
  child.stdin?.end(input);
  return done;
}

describe('dameso broker passwd', () => {
  it('adds then replaces a node: file 0600, a scrypt hash, never the password', async () => {
    const file = path.join(dir, 'a.users');
    const secret = path.join(dir, 'n1.secret');
    await writeFile(secret, 'first-secret-pw\n');
    const added = await runCli(['broker', 'passwd', '--file', file, '--node', 'n1', '--password-file', secret]);
    expect(added).toMatchObject({ code: 0, stdout: `added n1 in ${file}\n` });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^n1:\$scrypt\$ln=15,r=8,p=1\$/);
    expect(text).not.toContain('first-secret-pw');
    expect(await verifyPassword('first-secret-pw', parseCredentials(text).get('n1')!)).toBe(true);

    const replaced = await runWithStdin(['broker', 'passwd', '--file', file, '--node', 'n1'], 'second-secret-pw\n');
    expect(replaced).toMatchObject({ code: 0, stdout: `replaced n1 in ${file}\n` });
    const creds = parseCredentials(await readFile(file, 'utf8'));
    expect(creds.size).toBe(1);
    expect(await verifyPassword('second-secret-pw', creds.get('n1')!)).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it.each([
    ['no password on stdin', ['--node', 'n1'], '', 64, /no password on stdin/],
    ['a short password', ['--node', 'n1'], 'short\n', 64, /at least 8 characters/],
    ['a bad node id', ['--node', 'bad.id'], 'long-enough-pw\n', 64, /--node must match/],
    ['no --node', [], 'long-enough-pw\n', 64, /--node/],
  ])('refuses %s', async (_what, args, input, code, message) => {
    const file = path.join(dir, 'refused.users');
    const r = await runWithStdin(['broker', 'passwd', '--file', file, ...args], input as string);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message as RegExp);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a malformed credentials file with exit 78 naming the line, leaving it as it was', async () => {
    const file = path.join(dir, 'broken.users');
    await writeFile(file, '# ok\nn1:plaintext-pw\n');
    const r = await runWithStdin(['broker', 'passwd', '--file', file, '--node', 'n2'], 'long-enough-pw\n');
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/line 2: node n1: not a scrypt hash/);
    expect(await readFile(file, 'utf8')).toBe('# ok\nn1:plaintext-pw\n');
  });
});

describe('dameso node --password-file', () => {
  it('connects to a broker that authenticates; a wrong password exits 78; a missing file exits 78', async () => {
    const file = path.join(dir, 'node.users');
    await setCredential(file, 'pi-7', 'pi-7-secret-pw', CHEAP);
    const host = createBrokerHost({ port: 0, auth: await createFileAuth({ file }) });
    const { url } = await host.start();
    try {
      const good = path.join(dir, 'pi-7.secret');
      await writeFile(good, 'pi-7-secret-pw\n', { mode: 0o600 });
      const data = path.join(dir, 'data-pi-7');
      const child = spawnCli(['node', '--id', 'pi-7', '--broker', url, '--password-file', good, '--data', data]);
      const exit = finished(child);
      await printed(child, 'node pi-7 online');
      child.kill('SIGTERM');
      expect((await exit).code).toBe(0);

      const bad = path.join(dir, 'wrong.secret');
      await writeFile(bad, 'not-the-password\n');
      const refused = await runCli(['node', '--id', 'pi-7', '--broker', url, '--password-file', bad, '--data', data]);
      expect(refused.code).toBe(78);
      expect(refused.stderr).toMatch(/refused node pi-7 \(CONNACK 5, not authorized\)/);
      expect(refused.stderr).not.toContain('not-the-password');

      const missing = await runCli([
        'node',
        '--id',
        'pi-7',
        '--broker',
        url,
        '--password-file',
        path.join(dir, 'nope'),
      ]);
      expect(missing.code).toBe(78);
      expect(missing.stderr).toMatch(/--password-file.*cannot read/);
      // Two attempts with the wrong password: the refused CONNECT, then the node's one diagnostic
      // CONNECT without its Will (a refusal of both is a password, not a prefix mismatch).
      expect(host.stats().authRefused.bad_password).toBe(2);
    } finally {
      await host.stop();
    }
  });
});

describe('dameso broker --auth-file (child process)', () => {
  it('refuses a client without credentials, reloads the file on SIGHUP, and exits 78 on a bad file', async () => {
    const file = path.join(dir, 'hosted.users');
    await setCredential(file, 'n1', 'n1-secret-pw', CHEAP);
    const child = spawnCli([
      'broker',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--stats-ms',
      '0',
      '--json',
      '--log-level',
      'silent',
      '--auth-file',
      file,
    ]);
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const listening = JSON.parse((await lines.next()).value as string);
    expect(listening).toMatchObject({ event: 'listening', auth: { nodes: 1 } });
    const url = `mqtt://127.0.0.1:${listening.port}`;
    await expect(
      connectClient(url, { clientId: 'dameso.n2', username: 'n2', password: 'n2-secret-pw' }),
    ).rejects.toMatchObject({ code: 5 });
    await setCredential(file, 'n2', 'n2-secret-pw', CHEAP);
    child.kill('SIGHUP');
    expect(JSON.parse((await lines.next()).value as string)).toEqual({ event: 'auth_reloaded', nodes: 2, closed: 0 });
    const n2 = await connectClient(url, { clientId: 'dameso.n2', username: 'n2', password: 'n2-secret-pw' });
    await n2.endAsync();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const rest: Record<string, unknown>[] = [];
    for (let next = await lines.next(); !next.done; next = await lines.next()) rest.push(JSON.parse(next.value));
    expect(await exited).toBe(0);
    expect(rest.at(-1)).toMatchObject({ event: 'stopped', authRefusedTotal: 1, authRefused: { unknown_node: 1 } });

    const broken = path.join(dir, 'broken-hosted.users');
    await writeFile(broken, 'n1:plaintext\n');
    const r = await runCli(['broker', '--port', '0', '--auth-file', broken]);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/line 1/);
  });
});

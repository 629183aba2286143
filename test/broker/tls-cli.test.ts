import { type ChildProcess, spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient } from '../helpers/broker-clients.js';
import { finished, printed, runCli, spawnCli } from '../helpers/node-cli.js';
import { makeTestPki, removePki, type TestPki } from '../helpers/tls.js';

const MAIN = 'src/cli/main.ts';

let dir: string;
let pki: TestPki;
let other: TestPki;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dameso-tls-cli-'));
  pki = await makeTestPki('dameso test CA', 'broker.test');
  other = await makeTestPki('another CA', 'renewed.test');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await removePki(pki);
  await removePki(other);
});

/** `--port 0 --tls-port 0 --tls-cert CERT --tls-key KEY`: both listeners on free ports. */
const tlsArgs = (cert: string, key: string) => ['--port', '0', '--tls-port', '0', '--tls-cert', cert, '--tls-key', key];

function spawnBroker(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, 'broker', '--stats-ms', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DAMESO_LOG_LEVEL: 'error' },
  });
}

/** Resolves once the child wrote `text` on stderr. */
function printedOnStderr(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes(text)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before writing "${text}" on stderr`)));
  });
}

describe('dameso broker --tls-port (child process)', () => {
  it('refuses --tls-port without --tls-cert and --tls-key (exit 64), and unreadable or mismatched files (exit 78)', async () => {
    const alone = await runCli(['broker', '--port', '0', '--tls-port', '0']);
    expect(alone.code).toBe(64);
    expect(alone.stderr).toMatch(/--tls-cert and --tls-key missing/);

    const noKey = await runCli(['broker', '--port', '0', '--tls-port', '0', '--tls-cert', pki.files.cert]);
    expect(noKey.code).toBe(64);
    expect(noKey.stderr).toMatch(/--tls-key missing/);

    const missing = path.join(dir, 'nope.crt');
    const unreadable = await runCli(['broker', ...tlsArgs(missing, pki.files.key)]);
    expect(unreadable.code).toBe(78);
    expect(unreadable.stderr).toMatch(/--tls-cert.*cannot read .*nope\.crt \(ENOENT\)/);

    const mismatched = await runCli(['broker', ...tlsArgs(pki.files.cert, other.files.key)]);
    expect(mismatched.code).toBe(78);
    expect(mismatched.stderr).toMatch(/--tls-key.*is not the PEM private key of/);
  });

  it('refuses --wss-port without the TLS flags (exit 64)', async () => {
    const alone = await runCli(['broker', '--port', '0', '--wss-port', '0']);
    expect(alone.code).toBe(64);
    expect(alone.stderr).toMatch(
      /--wss-port serves the TLS listener's certificate: --tls-port, --tls-cert and --tls-key missing/,
    );
    const noKey = await runCli([
      'broker',
      '--port',
      '0',
      '--wss-port',
      '0',
      '--tls-port',
      '0',
      '--tls-cert',
      pki.files.cert,
    ]);
    expect(noKey.code).toBe(64);
    expect(noKey.stderr).toMatch(/--tls-key missing/);
  });

  it('--wss-port: prints the wss:// address, serves it, and counts a failed handshake in its stats line', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'broker', '--stats-ms', '0', '--host', '127.0.0.1', '--wss-port', '0'].concat(
        tlsArgs(pki.files.cert, pki.files.key),
      ),
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DAMESO_LOG_LEVEL: 'warn' } },
    );
    const exit = finished(child);
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const line = (await lines.next()).value as string;
    expect(line).toMatch(
      /^dameso broker listening on mqtt:\/\/127\.0\.0\.1:\d+ and mqtts:\/\/127\.0\.0\.1:\d+ and wss:\/\/127\.0\.0\.1:\d+ /,
    );
    const wssUrl = / and (wss:\/\/127\.0\.0\.1:\d+) /.exec(line)?.[1] ?? '';
    const c = await connectClient(wssUrl, { ca: pki.ca });
    await c.endAsync();
    // Without the CA: refused, and the broker logs it (at warn, the first from this address).
    const logged = printedOnStderr(child, 'TLS handshake failed');
    await expect(connectClient(wssUrl)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    await logged;
    child.kill('SIGTERM');
    const done = await exit;
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/ tls_handshake_failures=1$/m);
  });

  it('prints the mqtts:// address in its listening line', async () => {
    const child = spawnBroker(['--host', '127.0.0.1', ...tlsArgs(pki.files.cert, pki.files.key)]);
    const exit = finished(child);
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const line = (await lines.next()).value as string;
    const tlsUrl = /and (mqtts:\/\/127\.0\.0\.1:\d+) /.exec(line)?.[1];
    expect(line).toMatch(/^dameso broker listening on mqtt:\/\/127\.0\.0\.1:\d+ and mqtts:\/\/127\.0\.0\.1:\d+ /);
    // The printed address serves TLS. (It also lets the child install its SIGTERM handler, which it
    // does only after printing: a SIGTERM sent at once can find none and kill it, exit code null.)
    const c = await connectClient(tlsUrl ?? '', { ca: pki.ca });
    await c.endAsync();
    child.kill('SIGTERM');
    expect((await exit).code).toBe(0);
  });

  it('serves dameso node --ca over mqtts://, refuses a node without it, and reloads the certificate on SIGHUP', async () => {
    // The broker reads these paths again on SIGHUP.
    const cert = path.join(dir, 'broker.crt');
    const key = path.join(dir, 'broker.key');
    await copyFile(pki.files.cert, cert);
    await copyFile(pki.files.key, key);
    const broker = spawnBroker(['--host', '127.0.0.1', '--tcp-host', '127.0.0.1', ...tlsArgs(cert, key), '--json']);
    const brokerExit = finished(broker);
    try {
      const lines = createInterface({ input: broker.stdout! })[Symbol.asyncIterator]();
      const listening = JSON.parse((await lines.next()).value as string);
      expect(listening).toMatchObject({ event: 'listening', tcpHost: '127.0.0.1' });
      expect(listening.tlsUrl).toBe(`mqtts://127.0.0.1:${listening.tlsPort}`);
      const url = listening.tlsUrl as string;

      const data = path.join(dir, 'data-pi-7');
      const node = spawnCli(['node', '--id', 'pi-7', '--broker', url, '--ca', pki.files.ca, '--data', data]);
      const nodeExit = finished(node);
      await printed(node, `node pi-7 online`);
      node.kill('SIGTERM');
      expect((await nodeExit).code).toBe(0);

      const untrusting = await runCli(['node', '--id', 'pi-7', '--broker', url, '--data', data]);
      expect(untrusting.code).toBe(78);
      expect(untrusting.stderr).toMatch(/TLS certificate of the MQTT broker at mqtts:.* did not verify/);

      // A renewed certificate from another CA: served after SIGHUP.
      await copyFile(other.files.cert, cert);
      await copyFile(other.files.key, key);
      broker.kill('SIGHUP');
      expect(JSON.parse((await lines.next()).value as string)).toMatchObject({ event: 'tls_reloaded', cert });
      const renewed = await connectClient(url, { ca: other.ca });
      await renewed.endAsync();

      // A broken one: logged, and the renewed certificate stays in use.
      const failed = printedOnStderr(broker, 'TLS reload failed');
      await writeFile(cert, 'not a certificate\n');
      broker.kill('SIGHUP');
      await failed;
      const still = await connectClient(url, { ca: other.ca });
      await still.endAsync();
    } finally {
      broker.kill('SIGTERM');
    }
    expect((await brokerExit).code).toBe(0);
  });
});

describe('--ca of the commands that connect', () => {
  it('an unreadable or non-certificate --ca is a config error (exit 78) before connecting', async () => {
    const missing = await runCli([
      'node',
      '--id',
      'pi-7',
      '--broker',
      'mqtts://127.0.0.1:1',
      '--ca',
      path.join(dir, 'none.crt'),
      '--data',
      path.join(dir, 'data-missing-ca'),
    ]);
    expect(missing.code).toBe(78);
    expect(missing.stderr).toMatch(/--ca.*cannot read .*none\.crt \(ENOENT\)/);

    const notCert = path.join(dir, 'not-a-cert.pem');
    await writeFile(notCert, 'hello\n');
    const intent = await runCli([
      'intent',
      'want_chunk',
      '--subject',
      'a'.repeat(64),
      '--broker',
      'mqtts://127.0.0.1:1',
      '--ca',
      notCert,
    ]);
    expect(intent.code).toBe(78);
    expect(intent.stderr).toMatch(/--ca.*not-a-cert\.pem is not a PEM certificate/);

    const chunks = await runCli([
      'chunks',
      'who-has',
      'a'.repeat(64),
      '--broker',
      'mqtts://127.0.0.1:1',
      '--ca',
      notCert,
    ]);
    expect(chunks.code).toBe(78);
    expect(chunks.stderr).toMatch(/--ca.*not a PEM certificate/);
  });
});

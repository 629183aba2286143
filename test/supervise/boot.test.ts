/**
 * Real processes against real brokers: a node started with --retry against a broker that refuses
 * its password says each refused attempt on one coded warning line with the next delay, goes
 * online once the broker knows it, and `dameso status` counts the refusals; without --retry the
 * refusal exits 78 at once. Safe mode: three `dameso node` processes SIGKILLed during their start
 * put the fourth in safe mode, said on stdout, in the log and in `dameso status`.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileAuth, setCredential } from '../../broker/auth.js';
import { createBrokerHost } from '../../broker/host.js';
import { readRecord } from '../../src/supervise/index.js';
import { type BrokerHandle, freePort, startAedes } from '../helpers/brokers.js';
import { finished, printed, runCli, spawnCli } from '../helpers/node-cli.js';

const CHEAP = { ln: 10, r: 8, p: 1 };
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(os.tmpdir(), 'dameso-boot-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Resolves once stderr has matched `re` `times` times; rejects if the child exits first. */
function stderrMatches(child: ChildProcess, re: RegExp, times = 1): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const lines = err.split('\n').filter((l) => re.test(l));
      if (lines.length >= times) resolve(lines);
    });
    child.once('exit', (code) =>
      reject(new Error(`exited with ${code} before ${times} stderr line(s) matching ${re}`)),
    );
  });
}

/** Polls the supervision record until `ok`; fails after `timeoutMs`. */
async function recordUntil(data: string, ok: (starts: number) => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok((await readRecord(data)).starts.length)) {
    if (Date.now() > deadline) throw new Error(`supervise record of ${data} never matched`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('boot retries', () => {
  it('--retry: each refused start is one coded warning with its next delay, then online once the broker knows the node', async () => {
    const users = join(dir, 'node.users');
    await setCredential(users, 'other', 'other-secret-pw', CHEAP);
    const auth = await createFileAuth({ file: users });
    const host = createBrokerHost({ port: 0, auth });
    const { url } = await host.start();
    const secret = join(dir, 'pi-7.secret');
    await writeFile(secret, 'pi-7-secret-pw\n', { mode: 0o600 });
    const data = join(dir, 'data-retry');
    try {
      const once = await runCli(['node', '--id', 'pi-7', '--broker', url, '--password-file', secret, '--data', data]);
      expect(once.code).toBe(78);
      // One line for the user (besides the JSON log lines), with its code.
      expect(once.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'))).toHaveLength(1);
      expect(once.stderr).toMatch(/refused node pi-7 \(CONNACK 5.*\[DAMESO_BAD_CONFIG\]$/m);
      // A refusal that no restart repairs is no crash at start.
      expect((await readRecord(data)).starts).toHaveLength(0);

      const metricsPort = await freePort();
      const child = spawnCli([
        'node',
        '--id',
        'pi-7',
        '--broker',
        url,
        '--password-file',
        secret,
        '--data',
        data,
        '--retry',
        '--metrics-port',
        String(metricsPort),
      ]);
      const exit = finished(child);
      const warned = await stderrMatches(child, /start refused \[DAMESO_BAD_CONFIG\]/, 2);
      expect(warned[0]).toMatch(/"level":40/);
      expect(warned[0]).toMatch(/refused node pi-7 \(CONNACK 5, not authorized\).*; retry 2 in 1 s/);
      expect(warned[1]).toMatch(/; retry 3 in 2 s/);
      expect(warned.join('\n')).not.toContain('pi-7-secret-pw');
      const status = await runCli(['status', '--data', data]);
      expect(status.stdout).toMatch(/^boot\s+[2-9] refused start\(s\), last at \S+: \[DAMESO_BAD_CONFIG\] /m);

      await setCredential(users, 'pi-7', 'pi-7-secret-pw', CHEAP);
      await auth.reload();
      await printed(child, 'node pi-7 online');
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(Number(/^dameso_boot_refusals_total\{[^}]*\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
      expect(metrics).toMatch(/^dameso_safe_mode\{[^}]*\} 0$/m);
      child.kill('SIGTERM');
      expect((await exit).code).toBe(0);
    } finally {
      await host.stop();
    }
  });

  it('a data folder that cannot be written is one coded line, exit 73', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    const r = await runCli([
      'node',
      '--id',
      'w1',
      '--broker',
      'mqtt://127.0.0.1:1',
      '--data',
      join(file, 'data'),
      '--retry',
    ]);
    expect(r.code).toBe(73);
    const lines = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/cannot write the data folder .*a-file\/data \(ENOTDIR\).*\[DAMESO_CANNOT_WRITE\]$/);
  });

  it('a clean stop while the broker is awaited is no crash', async () => {
    const data = join(dir, 'data-clean');
    const child = spawnCli([
      'node',
      '--id',
      'c1',
      '--broker',
      `mqtt://127.0.0.1:${await freePort()}`,
      '--data',
      data,
      '--retry',
    ]);
    const exit = finished(child);
    await recordUntil(data, (n) => n === 1);
    child.kill('SIGTERM');
    expect((await exit).code).toBe(0);
    expect((await readRecord(data)).starts).toHaveLength(0);
  });
});

describe('safe mode', () => {
  let broker: BrokerHandle;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('three processes killed during their start put the fourth in safe mode, and it says why', async () => {
    const data = join(dir, 'data-safe');
    const away = `mqtt://127.0.0.1:${await freePort()}`;
    for (let i = 1; i <= 3; i++) {
      const child = spawnCli(['node', '--id', 's1', '--roles', 'bt', '--broker', away, '--data', data, '--retry']);
      const exit = finished(child);
      await recordUntil(data, (n) => n === i);
      child.kill('SIGKILL');
      await exit;
    }
    const metricsPort = await freePort();
    const child = spawnCli([
      'node',
      '--id',
      's1',
      '--roles',
      'bt',
      '--broker',
      broker.url,
      '--data',
      data,
      '--retry',
      '--metrics-port',
      String(metricsPort),
    ]);
    const exit = finished(child);
    const said = stderrMatches(child, /starts in safe mode/);
    await printed(child, 'node s1 online');
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^dameso_safe_mode\{[^}]*\} 1$/m);
    const live = (await (await fetch(`http://127.0.0.1:${metricsPort}/status`)).json()) as {
      roles: string[];
      supervise: { safeMode: { crashes: number } | null };
    };
    expect(live.roles).toEqual([]);
    expect(live.supervise.safeMode?.crashes).toBe(3);
    const health = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
    expect(health.status).toBe(200); // said, not failed: restarting it would only add crashes
    expect(await health.text()).toMatch(
      /^safe mode since \S+: 3 crashes at start within 10 min; presence and status only$/m,
    );
    expect((await said)[0]).toMatch(/node s1 starts in safe mode: 3 crashes at start within 10 min; no roles/);
    const status = await runCli(['status', '--data', data]);
    expect(status.stdout).toMatch(
      /^safe mode\s+since \S+: 3 crashes at start within 10 min; presence and status only$/m,
    );
    child.kill('SIGTERM');
    const r = await exit;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/node s1 online \(session \d+, roles -\).*, SAFE MODE \(presence and status only\)/);
  });
});

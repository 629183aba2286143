/**
 * The x64 bundle as a board gets it: built by scripts/bundle.ts, unpacked in a folder with no
 * node_modules above it, installed with install.sh into a root folder, run with plain `node`
 * against a real broker (online, stores a chunk and serves it back), then uninstalled.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { makeChunk } from '../helpers/chunks-fixtures.js';
import { finished, printed } from '../helpers/node-cli.js';
import { aedesSuite, until } from '../helpers/node-fixtures.js';

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '../..');
const suite = aedesSuite();
let work = '';
let unpacked = '';
const version = (JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

/** Environment without anything that could find the checkout's node_modules. */
function bareEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_PATH;
  delete env.NODE_OPTIONS;
  return env;
}

/** Every file (not folder) under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'dameso-bundle-'));
  const out = path.join(work, 'out');
  await run(
    process.execPath,
    ['--import', 'tsx', path.join(REPO, 'scripts/bundle.ts'), '--arch', 'x64', '--out', out],
    {
      cwd: REPO,
    },
  );
  const tarball = path.join(out, `dameso-${version}-linux-x64.tar.gz`);
  await run('tar', ['-xzf', tarball, '-C', work]);
  unpacked = path.join(work, `dameso-${version}-linux-x64`);
}, 120_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('the tarball holds one JS file, the x64 serial binding, the board profiles, the units and the scripts', async () => {
  const files = await filesUnder(unpacked);
  // The program is one file; the dashboard's app.js is the page's script, run by the browser.
  expect(files.filter((f) => /\.(m?js|cjs)$/.test(f) && !f.startsWith('dist/dashboard/'))).toEqual(['dameso.mjs']);
  expect(files).toContain('prebuilds/linux-x64/@serialport+bindings-cpp.glibc.node');
  expect(files.filter((f) => f.startsWith('prebuilds/'))).toHaveLength(1);
  expect(files).toEqual(expect.arrayContaining(['boards/pi-zero-2w.json', 'boards/generic.json']));
  expect(files).toEqual(expect.arrayContaining(['install.sh', 'uninstall.sh', 'systemd/dameso-node.service']));
  expect(files).toEqual(expect.arrayContaining(['dist/dashboard/index.html', 'dist/dashboard/app.js']));
  const unit = await readFile(path.join(unpacked, 'systemd/dameso-node.service'), 'utf8');
  expect(unit).toMatch(/^ExecStart=.* \/opt\/dameso\/dameso\.mjs node/m);
});

test('--version prints the package version, the commit and the build time stamped into the bundle', async () => {
  const { stdout } = await run(process.execPath, [path.join(unpacked, 'dameso.mjs'), '--version'], { env: bareEnv() });
  const [, v, builtAt] = /^(\S+) \(commit [0-9a-f]{12}, built (\S+)\)\n$/.exec(stdout) ?? [];
  expect(v).toBe(version);
  expect(Number.isNaN(Date.parse(builtAt ?? ''))).toBe(false);
});

test('dameso fleet is refused by the bundle with one usage line (its worker programs are not in it)', async () => {
  const r = await run(process.execPath, [path.join(unpacked, 'dameso.mjs'), 'fleet', '--nodes', '2'], {
    env: bareEnv(),
  }).catch((e: { code: number; stderr: string }) => e);
  expect('code' in r ? r.code : 0).toBe(64);
  expect(r.stderr).toMatch(/^dameso: dameso fleet runs from a checkout .*\[DAMESO_USAGE\]\n$/);
});

test('install.sh without --broker writes nothing for the settings and exits 64 with one line', async () => {
  const root = path.join(work, 'no-broker');
  const r = await run(path.join(unpacked, 'install.sh'), ['--root', root]).catch(
    (e: { code: number; stderr: string }) => e,
  );
  expect('code' in r ? r.code : 0).toBe(64);
  expect(r.stderr).toMatch(/^install\.sh: --broker is required .*\[DAMESO_USAGE\]\n$/);
});

test('installed into a root folder, the node runs from the installed JS, answers, and uninstall leaves only the data', async () => {
  const root = path.join(work, 'root');
  const inst = await run(path.join(unpacked, 'install.sh'), [
    ...['--root', root, '--broker', suite.url, '--id', 'n1', '--roles', 'bt'],
  ]);
  expect(inst.stdout).toMatch(/would run: systemctl enable dameso-node\.service/);
  const config = JSON.parse(await readFile(path.join(root, 'etc/dameso/node.json'), 'utf8'));
  expect(config).toEqual({ id: 'n1', roles: ['bt'], broker: suite.url, data: '/var/lib/dameso', device: 'auto' });
  expect(await filesUnder(path.join(root, 'etc/systemd/system'))).toEqual(['dameso-node.service']);

  const dataDir = path.join(root, 'var/lib/dameso');
  const js = path.join(root, 'opt/dameso/dameso.mjs');
  const args = ['node', '--config', path.join(root, 'etc/dameso/node.json'), '--data', dataDir, '--log-level', 'warn'];
  const child = spawn(process.execPath, [js, ...args], {
    cwd: root,
    env: bareEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const done = finished(child);
  try {
    await printed(child, 'online');
    const watcher = await suite.pool.start(suite.url, 'watcher');
    await until(() => watcher.roster.get('n1')?.online === true);
    const chunk = makeChunk('watcher');
    const stored = await watcher.declare('store_chunk', {
      subject: chunk.id,
      body: chunk.bytes,
      to: ['n1'],
      deadlineMs: 5000,
    });
    expect(stored.yes.map((r) => r.envelope.from)).toEqual(['n1']);
    const wanted = await watcher.declare('want_chunk', { subject: chunk.id, deadlineMs: 5000 });
    expect(wanted.yes.map((r) => r.envelope.from)).toEqual(['n1']);
    expect(Buffer.from(wanted.yes[0]!.envelope.data as Uint8Array).equals(Buffer.from(chunk.bytes))).toBe(true);
  } finally {
    child.kill('SIGTERM');
  }
  const r = await done;
  expect(r.code).toBe(0);
  expect(r.stderr).not.toMatch(/Cannot find (module|package)/);

  await run(path.join(root, 'opt/dameso/uninstall.sh'), ['--root', root]);
  const left = await filesUnder(root);
  expect(left.length).toBeGreaterThan(0);
  expect(left.filter((f) => !f.startsWith(`var${path.sep}lib${path.sep}dameso${path.sep}`))).toEqual([]);
}, 60_000);

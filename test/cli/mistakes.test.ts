/**
 * Everyday mistakes, one row each: the command a user types, the exit code, and the one line it
 * must print — its `[DAMESO_…]` code and the name it must mention — with no stack trace and nothing
 * left behind. A row that hangs is killed by the run guard and fails (code null).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerHost, createBrokerHost, createFileAuth, setCredential } from '../../broker/index.js';
import { MAX_DEADLINE_MS } from '../../src/intent/constants.js';
import { clientIdForNode, createTopics, encode } from '../../src/protocol/index.js';
import { createSeries } from '../../src/series/index.js';
import { DEFAULT_START_TIMEOUT_MS } from '../../src/transport/index.js';
import { freePort, startAedes } from '../helpers/brokers.js';
import { logTap } from '../helpers/log-tap.js';
import { type CliResult, finished, printed, runCli } from '../helpers/node-cli.js';
import { makeTestPki, removePki, type TestPki } from '../helpers/tls.js';

let root: string;
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

interface Row {
  name: string;
  args: (root: string) => string[];
  setup?: (root: string) => Promise<void>;
  code: number;
  /** The error code the line carries. */
  errorCode: string;
  /** What the line must name (a path, a flag, a node). */
  mentions: (root: string) => string;
}

/**
 * A series of 20 entries whose 10th record has 4 payload bytes flipped (its CRC fails): the
 * records before and after it stay sound.
 */
async function damagedSeries(dir: string): Promise<void> {
  const s = createSeries({ dir, durability: 'none' });
  await s.open();
  for (let i = 1; i <= 20; i++) await s.append({ event: 'reading', i, tag: i === 10 ? 'MARKER-TEN' : 'plain' });
  await s.close();
  const [segment] = (await readdir(dir)).filter((f) => f.endsWith('.seg'));
  if (segment === undefined) throw new Error(`no segment file in ${dir}`);
  const bytes = await readFile(join(dir, segment));
  const at = bytes.indexOf('MARKER-TEN');
  if (at < 0) throw new Error('marker not found in the segment');
  for (let k = 0; k < 4; k++) bytes[at + k]! ^= 0xff;
  await writeFile(join(dir, segment), bytes);
}

const CHUNK_ID = 'ab'.repeat(32);

const ROWS: Row[] = [
  {
    name: 'series export of a series with a damaged record',
    setup: (r) => damagedSeries(join(r, 's')),
    args: (r) => ['series', 'export', '--dir', join(r, 's')],
    code: 65,
    errorCode: 'DAMESO_SERIES_CORRUPT',
    mentions: () => '1 damaged record(s) skipped',
  },
  {
    name: 'series verify of an empty folder',
    setup: (r) => mkdir(join(r, 'empty')),
    args: (r) => ['series', 'verify', '--dir', join(r, 'empty')],
    code: 65,
    errorCode: 'DAMESO_NOT_A_SERIES',
    mentions: (r) => join(r, 'empty'),
  },
  {
    name: 'chunks get --out in a missing folder',
    args: (r) => ['chunks', 'get', CHUNK_ID, '--out', join(r, 'nodir', 'c'), '--broker', 'mqtt://127.0.0.1:1'],
    code: 73,
    errorCode: 'DAMESO_CANNOT_WRITE',
    mentions: (r) => join(r, 'nodir'),
  },
  {
    name: 'node --prefix with a wildcard',
    args: (r) => [
      'node',
      '--id',
      'n1',
      '--data',
      join(r, 'prefix-flag'),
      '--prefix',
      'fleet/+',
      '--broker',
      'mqtt://127.0.0.1:1',
    ],
    code: 64,
    errorCode: 'DAMESO_USAGE',
    mentions: () => '--prefix "fleet/+"',
  },
  {
    name: 'intent --prefix with a $',
    args: () => ['intent', 'want_chunk', '--subject', CHUNK_ID, '--prefix', '$fleet', '--broker', 'mqtt://127.0.0.1:1'],
    code: 64,
    errorCode: 'DAMESO_USAGE',
    mentions: () => '--prefix "$fleet"',
  },
  {
    name: 'node config "prefix" with an empty level',
    setup: (r) => writeFile(join(r, 'prefix.json'), JSON.stringify({ id: 'n1', prefix: 'fleet//a' })),
    args: (r) => [
      'node',
      '--config',
      join(r, 'prefix.json'),
      '--data',
      join(r, 'prefix-config'),
      '--broker',
      'mqtt://127.0.0.1:1',
    ],
    code: 78,
    errorCode: 'DAMESO_BAD_CONFIG',
    mentions: () => 'config "prefix"',
  },
  {
    name: 'chunks pull --out of a file',
    setup: (r) => writeFile(join(r, 'a-file'), 'x'),
    args: (r) => ['chunks', 'pull', '--node', 'pi-7', '--out', join(r, 'a-file'), '--broker', 'mqtt://127.0.0.1:1'],
    code: 64,
    errorCode: 'DAMESO_BAD_PATH',
    mentions: (r) => join(r, 'a-file'),
  },
  ...(
    [
      ['node', ['node', '--id', 'n1', '--data', 'DATA']],
      ['intent', ['intent', 'want_chunks', '--body', '{"node":"pi-7"}']],
      ['chunks who-has', ['chunks', 'who-has', CHUNK_ID]],
      ['tap', ['tap']],
      ['fleet', ['fleet', '--duration', '1']],
    ] as const
  ).flatMap(([command, args]): Row[] => [
    {
      name: `${command} --broker without a scheme`,
      args: (r) => [...args.map((a) => (a === 'DATA' ? join(r, 'data') : a)), '--broker', '127.0.0.1:18830'],
      code: 64,
      errorCode: 'DAMESO_USAGE',
      mentions: () => 'write mqtt://127.0.0.1:18830',
    },
  ]),
  {
    name: 'intent --broker http://',
    args: () => ['intent', 'want_chunks', '--body', '{"node":"pi-7"}', '--broker', 'http://127.0.0.1:18830'],
    code: 64,
    errorCode: 'DAMESO_USAGE',
    mentions: () => 'http://127.0.0.1:18830',
  },
  {
    name: 'intent want_chunk without --subject',
    args: () => ['intent', 'want_chunk', '--broker', 'mqtt://127.0.0.1:1'],
    code: 64,
    errorCode: 'DAMESO_USAGE',
    mentions: () => 'want_chunk needs --subject',
  },
  {
    name: 'intent --deadline over the maximum',
    args: () => ['intent', 'want_chunks', '--body', '{"node":"a"}', '--deadline', '99999999'],
    code: 64,
    errorCode: 'DAMESO_USAGE',
    mentions: () => `1 to ${MAX_DEADLINE_MS}`,
  },
  {
    name: 'intent --body-file of a missing file',
    args: (r) => ['intent', 'store_chunk', '--subject', CHUNK_ID, '--body-file', join(r, 'nofile')],
    code: 64,
    errorCode: 'DAMESO_BAD_PATH',
    mentions: (r) => join(r, 'nofile'),
  },
  {
    name: 'node --id that is not a node id',
    args: (r) => ['node', '--id', 'pi 7!', '--data', join(r, 'data'), '--broker', 'mqtt://127.0.0.1:1'],
    code: 64,
    errorCode: 'DAMESO_USAGE',
    mentions: () => '--id "pi 7!"',
  },
  {
    name: 'node --embedded-host of an address this machine does not have',
    args: (r) => [
      'node',
      '--id',
      'hub',
      '--data',
      join(r, 'data'),
      '--broker',
      'embedded',
      '--embedded-port',
      '0',
      '--embedded-host',
      '192.0.2.1',
      '--log-level',
      'error',
    ],
    code: 69,
    errorCode: 'DAMESO_BROKER_LISTEN',
    mentions: () => '192.0.2.1 is not an address of this machine',
  },
  {
    name: 'broker --host of an address this machine does not have',
    args: () => ['broker', '--host', '192.0.2.1', '--port', '0'],
    code: 69,
    errorCode: 'DAMESO_BROKER_LISTEN',
    mentions: () => '192.0.2.1 is not an address of this machine',
  },
  {
    name: 'fleet against a broker that is down',
    args: () => ['fleet', '--duration', '1', '--broker', 'mqtt://127.0.0.1:1'],
    code: 69,
    errorCode: 'DAMESO_BROKER_UNREACHABLE',
    mentions: () => 'mqtt://127.0.0.1:1',
  },
  {
    name: 'fleet --password-file without --auth',
    args: () => ['fleet', '--duration', '1', '--password-file', 'fleet.secret'],
    code: 64,
    errorCode: 'DAMESO_USAGE',
    mentions: () => '--password-file needs --auth',
  },
  {
    name: 'limits --data of a missing path',
    args: (r) => ['limits', '--data', join(r, 'nowhere'), '--ms', '100'],
    code: 64,
    errorCode: 'DAMESO_BAD_PATH',
    mentions: (r) => join(r, 'nowhere'),
  },
  {
    name: 'limits --data of a file',
    setup: (r) => writeFile(join(r, 'a-file'), 'x'),
    args: (r) => ['limits', '--data', join(r, 'a-file'), '--ms', '100'],
    code: 64,
    errorCode: 'DAMESO_BAD_PATH',
    mentions: (r) => join(r, 'a-file'),
  },
  {
    name: 'broker passwd --file in a missing folder',
    setup: (r) => writeFile(join(r, 'pw'), 'correct horse battery'),
    args: (r) => [
      'broker',
      'passwd',
      '--file',
      join(r, 'nodir', 'users'),
      '--node',
      'n1',
      '--password-file',
      join(r, 'pw'),
    ],
    code: 73,
    errorCode: 'DAMESO_CANNOT_WRITE',
    mentions: (r) => join(r, 'nodir'),
  },
  {
    name: 'broker passwd --delete of a node the file does not hold',
    setup: (r) => writeFile(join(r, 'users'), ''),
    args: (r) => ['broker', 'passwd', '--file', join(r, 'users'), '--node', 'ghost', '--delete'],
    code: 65,
    errorCode: 'DAMESO_NO_SUCH_NODE',
    mentions: () => 'ghost',
  },
  {
    name: 'an unknown flag',
    args: () => ['limits', '--bogus'],
    code: 64,
    errorCode: 'DAMESO_USAGE',
    mentions: () => '--bogus',
  },
];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dameso-mistakes-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('every mistake gets one clear line and the right exit code', () => {
  for (const row of ROWS) {
    it(row.name, async () => {
      const dir = join(root, row.name.replace(/[^a-z0-9]+/gi, '-'));
      await mkdir(dir);
      await row.setup?.(dir);
      const before = await readdir(dir);
      const r = await runCli(row.args(dir), 30_000);
      expectOneLine(r, row.code, row.errorCode, row.mentions(dir));
      expect(await readdir(dir)).toEqual(before); // nothing left behind
    });
  }
});

/** Exit `code`, and on stderr one line with `[errorCode]` naming `mention`, no stack trace. */
function expectOneLine(r: CliResult, code: number, errorCode: string, mention: string): void {
  expect(r.code, r.stderr).toBe(code);
  // Info-level log lines (a broker's limits at start) are not part of what the error says.
  const lines = r.stderr
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('(run with --help') && !/^\{"level":[1-3]\d,/.test(l));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toContain(`[${errorCode}]`);
  expect(lines[0]).toContain(mention);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

/** `dameso ARGS | head -1` through a real pipe: the exit code of dameso and what it wrote on stderr. */
function throughHead(args: string[]): Promise<{ code: number | null; stderr: string; head: string }> {
  const child = spawn(
    'bash',
    ['-c', `set -o pipefail; "${process.execPath}" --import tsx "${MAIN}" "$@" | head -1`, 'dameso', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, BASH_ENV: '' },
    },
  );
  let head = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (head += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, stderr, head });
    }),
  );
}

describe('a closed pipe (`… | head`) stops a command quietly with exit 0', () => {
  let seriesDir: string;
  beforeAll(async () => {
    seriesDir = join(root, 'big-series');
    const s = createSeries({ dir: seriesDir, durability: 'none' });
    await s.open();
    const data = new Uint8Array(200);
    // Far more than a pipe buffer of output, so the writer meets the closed pipe.
    await Promise.all(Array.from({ length: 4000 }, (_, i) => s.append({ event: 'reading', i, data })));
    await s.close();
  });

  const cases: Array<[string, (dir: string) => string[]]> = [
    ['series export | head', (d) => ['series', 'export', '--dir', d]],
    [
      'series append | head',
      () => ['series', 'append', '--dir', join(root, 'appended'), '--count', '20000', '--durability', 'none'],
    ],
  ];
  for (const [name, args] of cases) {
    it(name, async () => {
      // pipefail: the status is dameso's, not head's.
      const r = await throughHead(args(seriesDir));
      expect(r.head.length).toBeGreaterThan(0);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    });
  }
});

/** The real command with its own TMPDIR (to see what it leaves in the temp folder). */
function spawnIn(tmp: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TMPDIR: tmp },
  });
}

/** Resolves once the child printed `text` on stderr; rejects if it exits first. */
function saidOnStderr(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes(text)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before saying "${text}": ${err}`)));
  });
}

/** A hang guard: a child still running after `ms` is killed (its code is then null and the test fails). */
function guarded(child: ChildProcess, ms: number): Promise<CliResult> {
  const guard = setTimeout(() => child.kill('SIGKILL'), ms);
  return finished(child).finally(() => clearTimeout(guard));
}

describe('Ctrl-C stops at once, says what it has, leaves nothing behind', () => {
  it('dameso node waiting for a broker that is down', async () => {
    const dir = join(root, 'sigint-node');
    await mkdir(dir);
    const port = await freePort(); // nothing listens there
    const child = spawnIn(dir, [
      'node',
      '--id',
      'n1',
      '--data',
      join(dir, 'data'),
      '--broker',
      `mqtt://127.0.0.1:${port}`,
    ]);
    const result = finished(child);
    await saidOnStderr(child, 'transport: reconnecting');
    child.kill('SIGINT');
    // Below the 10 s start timeout: a node that waited it out is killed here and fails (code null).
    const guard = setTimeout(() => child.kill('SIGKILL'), DEFAULT_START_TIMEOUT_MS / 2);
    const r = await result.finally(() => clearTimeout(guard));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('node n1 stopped before it was online');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('dameso intent waiting for a broker that is down: exit 130, its temp folder removed', async () => {
    const dir = join(root, 'sigint-intent-down');
    await mkdir(dir);
    const port = await freePort();
    const child = spawnIn(dir, ['intent', 'want_chunk', '--subject', CHUNK_ID, '--broker', `mqtt://127.0.0.1:${port}`]);
    const result = finished(child);
    await until(async () => (await readdir(dir)).some((f) => f.startsWith('dameso-intent-')), 'its temp folder');
    child.kill('SIGINT');
    const guard = setTimeout(() => child.kill('SIGKILL'), DEFAULT_START_TIMEOUT_MS / 2);
    const r = await result.finally(() => clearTimeout(guard));
    expect(r.code).toBe(130);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('nothing was declared');
    expect((await readdir(dir)).filter((f) => f.startsWith('dameso-intent-'))).toEqual([]);
  });

  it('dameso intent: the outcome so far, exit 130, its temp folder removed', async () => {
    const dir = join(root, 'sigint-intent');
    await mkdir(dir);
    const broker = await startAedes();
    const topics = createTopics();
    // A node that is online with the bt role and never answers: the intent stays open.
    const silent = await mqtt.connectAsync(broker.url, { clientId: clientIdForNode('silent1'), protocolVersion: 4 });
    const watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    try {
      await silent.publishAsync(
        topics.presence('silent1'),
        encode({ v: 1, node: 'silent1', session: 1, epoch: 7, state: 'online', roles: ['bt'], t: Date.now() }),
        { qos: 1, retain: true },
      );
      await watcher.subscribeAsync(topics.intent('want_chunk'));
      const declared = new Promise<void>((resolve) => watcher.once('message', () => resolve()));
      const child = spawnIn(dir, [
        'intent',
        'want_chunk',
        '--subject',
        CHUNK_ID,
        '--deadline',
        '60000',
        '--broker',
        broker.url,
      ]);
      const result = guarded(child, 30_000);
      await declared;
      child.kill('SIGINT');
      const r = await result;
      expect(r.code).toBe(130);
      expect(r.stdout).toContain('closed by stopped');
      expect(r.stdout).toContain('1 expected');
      expect(r.stderr).toBe('');
      expect((await readdir(dir)).filter((f) => f.startsWith('dameso-intent-'))).toEqual([]);
    } finally {
      await silent.endAsync();
      await watcher.endAsync();
      await broker.stop();
    }
  });
});

/** A retained online presence of `node` (bt) that never answers: intents to bt nodes stay open. */
async function silentPeer(url: string, node: string): Promise<mqtt.MqttClient> {
  const client = await mqtt.connectAsync(url, { clientId: clientIdForNode(node), protocolVersion: 4 });
  await client.publishAsync(
    createTopics().presence(node),
    encode({ v: 1, node, session: 1, epoch: 7, state: 'online', roles: ['bt'], t: Date.now() }),
    { qos: 1, retain: true },
  );
  return client;
}

describe('two processes with one node id: said once, no tight reconnect loop', () => {
  let broker: Awaited<ReturnType<typeof startAedes>>;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await broker.stop();
  });
  const node = (dir: string): ChildProcess => {
    const child = spawnIn(dir, ['node', '--id', 'store1', '--data', join(dir, 'data'), '--broker', broker.url]);
    children.push(child);
    return child;
  };

  it('a second dameso node --id store1', async () => {
    const dir = join(root, 'same-id-nodes');
    await mkdir(dir);
    const a = node(join(dir, 'a'));
    const b = node(join(dir, 'b'));
    const errA = collect(a);
    const errB = collect(b);
    await Promise.all([saidOnStderr(a, 'DAMESO_ID_TAKEN'), saidOnStderr(b, 'DAMESO_ID_TAKEN')]);
    for (const err of [errA(), errB()]) {
      const lines = err.split('\n').filter((l) => l.includes('DAMESO_ID_TAKEN'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('another process is connected as store1');
    }
  }, 60_000);

  it('dameso intent --id store1 while store1 runs: one line, exit 69', async () => {
    const dir = join(root, 'same-id-intent');
    await mkdir(dir);
    const peer = await silentPeer(broker.url, 'silent1');
    try {
      const running = node(join(dir, 'n'));
      await printed(running, 'online');
      const intent = spawnIn(dir, [
        'intent',
        'want_chunk',
        '--subject',
        CHUNK_ID,
        '--id',
        'store1',
        '--deadline',
        '60000',
        '--broker',
        broker.url,
      ]);
      const r = await guarded(intent, 30_000);
      expect(r.code).toBe(69);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toContain('[DAMESO_ID_TAKEN]');
      expect(lines[0]).toContain('another process is connected as store1');
      expect((await readdir(dir)).filter((f) => f.startsWith('dameso-intent-'))).toEqual([]);
    } finally {
      await peer.endAsync();
    }
  });
});

/** Everything the child writes on stderr from now on. */
function collect(child: ChildProcess): () => string {
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return () => err;
}

describe('a broker that requires a password', () => {
  let host: BrokerHost;
  let url: string;
  beforeAll(async () => {
    const file = join(root, 'broker.users');
    await setCredential(file, 'n1', 'n1-password', { ln: 10, r: 8, p: 1 });
    host = createBrokerHost({ port: 0, auth: await createFileAuth({ file }) });
    url = (await host.start()).url;
  });
  afterAll(async () => {
    await host.stop();
  });

  it('dameso node without --password-file: says the broker requires one, once', async () => {
    const dir = join(root, 'no-password');
    await mkdir(dir);
    const r = await runCli(['node', '--id', 'n1', '--data', join(dir, 'data'), '--broker', url, '--log-level', 'info']);
    const errors = r.stderr.split('\n').filter((l) => l.includes('"level":50') || l.startsWith('dameso:'));
    expect(errors, r.stderr).toHaveLength(1);
    expect(r.code).toBe(78);
    expect(errors[0]).toContain('requires a password');
    expect(errors[0]).toContain('--password-file');
  });

  it('dameso fleet: its nodes carry no password, said before any is spawned', async () => {
    const r = await runCli(['fleet', '--duration', '1', '--broker', url]);
    expectOneLine(r, 78, 'DAMESO_BAD_CONFIG', 'requires passwords');
  });
});

describe('a broker with another --prefix', () => {
  const tap = logTap('info');
  let open: BrokerHost;
  let guarded_: BrokerHost;
  beforeAll(async () => {
    open = createBrokerHost({ port: 0, topicPrefix: 'fleet1', log: tap.log as never });
    const file = join(root, 'prefix.users');
    await setCredential(file, 'n2', 'n2-password', { ln: 10, r: 8, p: 1 });
    await writeFile(join(root, 'n2.secret'), 'n2-password\n');
    guarded_ = createBrokerHost({ port: 0, topicPrefix: 'fleet1', auth: await createFileAuth({ file }) });
    await open.start();
    await guarded_.start();
  });
  afterAll(async () => {
    await open.stop();
    await guarded_.stop();
  });

  it('dameso node without --prefix: the prefixes differ, not the password; the broker says so too', async () => {
    const dir = join(root, 'prefix-open');
    await mkdir(dir);
    const r = await runCli(['node', '--id', 'n1', '--data', join(dir, 'data'), '--broker', open.address()!.url]);
    expectOneLine(r, 78, 'DAMESO_PREFIX_MISMATCH', `differs from this node's "dameso"`);
    expect(r.stderr).not.toContain('--password-file');
    const [line] = await tap.until(
      'refused connection: its Will is on dameso/v1/presence/n1, under prefix "dameso"; ' +
        "this broker's root is fleet1/v1: the node's --prefix differs from the broker's",
    );
    expect(line).toMatchObject({ reason: 'prefix_mismatch', client: 'dameso.n1' });
    expect(tap.records.filter((x) => x.reason === 'spoofed')).toEqual([]);
  });

  it('dameso node with the right password but another --prefix: the prefixes differ', async () => {
    const dir = join(root, 'prefix-auth');
    await mkdir(dir);
    const r = await runCli([
      'node',
      '--id',
      'n2',
      '--prefix',
      'fleet2',
      '--data',
      join(dir, 'data'),
      '--broker',
      guarded_.address()!.url,
      '--password-file',
      join(root, 'n2.secret'),
    ]);
    expectOneLine(r, 78, 'DAMESO_PREFIX_MISMATCH', `differs from this node's "fleet2"`);
  });

  it('a wrong password is still said as one (not as a prefix)', async () => {
    const dir = join(root, 'prefix-bad-password');
    await mkdir(dir);
    await writeFile(join(dir, 'bad.secret'), 'not-it\n');
    const r = await runCli([
      'node',
      '--id',
      'n2',
      '--prefix',
      'fleet1',
      '--data',
      join(dir, 'data'),
      '--broker',
      guarded_.address()!.url,
      '--password-file',
      join(dir, 'bad.secret'),
    ]);
    expectOneLine(r, 78, 'DAMESO_BAD_CONFIG', '--password-file');
  });
});

describe('TLS and plain ports mixed up', () => {
  let host: BrokerHost;
  let plain: number;
  let tlsPort: number;
  let pki: TestPki;
  beforeAll(async () => {
    pki = await makeTestPki();
    host = createBrokerHost({ port: 0, host: '127.0.0.1', tls: { port: 0, cert: pki.cert, key: pki.key } });
    const a = await host.start();
    plain = a.port;
    tlsPort = a.tlsPort!;
  });
  afterAll(async () => {
    await host.stop();
    await removePki(pki);
  });
  const intentTo = (url: string) => ['intent', 'want_chunks', '--body', '{"node":"a"}', '--broker', url];

  it('mqtts:// to the plain port', async () => {
    const r = await runCli(intentTo(`mqtts://127.0.0.1:${plain}`), 30_000);
    expectOneLine(r, 78, 'DAMESO_BAD_CONFIG', `does not speak TLS: use mqtt://127.0.0.1:${plain}`);
  });

  it('mqtt:// to the TLS port', async () => {
    const r = await runCli(intentTo(`mqtt://127.0.0.1:${tlsPort}`), 30_000);
    expectOneLine(r, 78, 'DAMESO_BAD_CONFIG', `speaks TLS: use mqtts://127.0.0.1:${tlsPort}`);
  });
});

describe('a busy --metrics-port', () => {
  it('is refused before the node goes online (no session, no data written)', async () => {
    const dir = join(root, 'metrics-busy');
    await mkdir(dir);
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as net.AddressInfo;
    try {
      const r = await runCli([
        'node',
        '--id',
        'm1',
        '--data',
        join(dir, 'data'),
        '--broker',
        'embedded',
        '--embedded-port',
        '0',
        '--metrics-port',
        String(port),
      ]);
      expectOneLine(r, 78, 'DAMESO_BAD_CONFIG', `127.0.0.1:${port}`);
      expect(r.stdout).not.toContain('online');
      expect(await readdir(dir)).toEqual([]); // no data folder: nothing started
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });
});

describe('a damaged series is never read silently', () => {
  it('series export --skip-damaged: the rest, the count on stderr, exit 0', async () => {
    const dir = join(root, 'skip-damaged');
    await damagedSeries(dir);
    const r = await runCli(['series', 'export', '--dir', dir, '--skip-damaged']);
    expect(r.code).toBe(0);
    const readings = r.stdout.split('\n').filter((l) => l.includes('"event":"reading"'));
    expect(readings).toHaveLength(19); // all but the damaged 10th
    expect(r.stdout).not.toContain('MARKER-TEN');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('1 damaged record(s) skipped');
  });

  it('dameso node on it: a warning at start, the metric and a /healthz warning line', async () => {
    const dir = join(root, 'node-on-damaged');
    await damagedSeries(join(dir, 'data', 'series'));
    const child = spawnIn(dir, [
      'node',
      '--id',
      'd1',
      '--data',
      join(dir, 'data'),
      '--broker',
      'embedded',
      '--embedded-port',
      '0',
      '--metrics-port',
      '0',
    ]);
    children.push(child);
    const err = collect(child);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await printed(child, 'Ctrl-C to stop');
    const warn = err()
      .split('\n')
      .find((l) => l.includes('damaged record(s) skipped at open'));
    expect(warn, err()).toBeDefined();
    expect(JSON.parse(warn!).level).toBe(40);
    const metricsUrl = /metrics (http:\/\/\S+?)[,;]/.exec(out)?.[1];
    expect(metricsUrl, out).toBeDefined();
    const base = metricsUrl!.replace(/\/metrics$/, '');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^dameso_series_damaged_records\{[^}]*\} 1$/m);
    // Said, but healthy: no restart repairs the record, so a supervisor must not keep restarting.
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok\nseries: 1 damaged record(s) skipped at open (dameso series verify)\n');
    const status = await runCli(['status', '--data', join(dir, 'data')]);
    expect(status.stdout, status.stderr).toContain('1 DAMAGED record(s) skipped');
  });
});

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

describe('intent --to a node that is not online', () => {
  it('names it on stderr and exits 69 when none of them is', async () => {
    const broker = await startAedes();
    try {
      const r = await runCli([
        'intent',
        'want_chunk',
        '--subject',
        CHUNK_ID,
        '--to',
        'nosuchnode',
        '--broker',
        broker.url,
      ]);
      expectOneLine(r, 69, 'DAMESO_NOT_ONLINE', '--to nosuchnode');
      expect(r.stdout).toContain('0 expected');
    } finally {
      await broker.stop();
    }
  });
});

describe('intent store_chunk --body-file', () => {
  it('carries the raw bytes: a bt node stores the chunk and says yes', async () => {
    const dir = join(root, 'body-file');
    const s = createSeries({ dir: join(dir, 'src'), durability: 'none' });
    await s.open();
    for (let i = 0; i < 5; i++) await s.append({ event: 'reading', i });
    const chunk = await s.chunk(1, s.lastSeq, 'pi-7');
    await s.close();
    await writeFile(join(dir, 'c.cbor'), chunk.bytes);
    const broker = await startAedes();
    const bt = spawnIn(dir, [
      'node',
      '--id',
      'bt1',
      '--roles',
      'bt',
      '--data',
      join(dir, 'bt1'),
      '--broker',
      broker.url,
    ]);
    children.push(bt);
    try {
      await printed(bt, 'Ctrl-C to stop');
      const r = await runCli([
        'intent',
        'store_chunk',
        '--subject',
        chunk.id,
        '--body-file',
        join(dir, 'c.cbor'),
        '--to',
        'bt1',
        '--broker',
        broker.url,
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const outcome = JSON.parse(r.stdout) as { yes: { node: string }[]; no: unknown[] };
      expect(outcome.yes.map((y) => y.node)).toEqual(['bt1']);
    } finally {
      bt.kill('SIGKILL');
      await broker.stop();
    }
  });
});

/** Polls `check` until it holds; fails (throws) after 10 s. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

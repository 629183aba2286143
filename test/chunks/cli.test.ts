import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/chunks/verify.js';
import { pushProgressLine } from '../../src/cli/chunks.js';
import { silentLogger } from '../../src/log.js';
import { createNode } from '../../src/node.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { createField, type Field } from '../helpers/chunks-field.js';
import { runCli } from '../helpers/node-cli.js';

let broker: BrokerHandle;
let field: Field;

const dameso = (...args: string[]) => runCli(args);

beforeAll(async () => {
  broker = await startAedes();
  field = await createField(broker.url);
  for (const id of ['cli-bt-1', 'cli-bt-2', 'cli-bt-3']) await field.start(id);
  // An owner node writes a series, then stops: `push` works on its data folder.
  const owner = createNode({ id: 'owner', broker: broker.url, dataDir: join(field.root, 'owner'), log: silentLogger });
  await owner.start();
  for (let i = 0; i < 30; i++) await owner.series.append({ event: 'temp', i });
  await owner.stop();
});

afterAll(async () => {
  await field?.stopAll();
  await broker?.stop();
});

describe('dameso chunks', () => {
  it('push → who-has → get → ls, with --json', async () => {
    const push = await dameso(
      'chunks',
      'push',
      '--data',
      join(field.root, 'owner'),
      '--id',
      'owner',
      '--broker',
      broker.url,
      '--replicas',
      '2',
      '--max-entries',
      '100',
      '--json',
    );
    expect(push.code).toBe(0);
    const pushed = JSON.parse(push.stdout) as { chunks: Array<{ id: string; holders: string[]; met: boolean }> };
    expect(pushed.chunks.length).toBeGreaterThan(0);
    const first = pushed.chunks[0]!;
    expect(first.met).toBe(true);
    expect(first.holders).toHaveLength(2);

    // Independent commands run side by side (each is its own short-lived process).
    const out = join(field.root, 'got.cbor');
    const [whoRun, get, lsRun] = await Promise.all([
      dameso('chunks', 'who-has', first.id, '--broker', broker.url, '--json'),
      dameso('chunks', 'get', first.id, '--broker', broker.url, '--out', out, '--json'),
      dameso('chunks', 'ls', '--data', join(field.root, first.holders[0]!), '--json'),
    ]);
    const who = JSON.parse(whoRun.stdout) as { holders: Array<{ node: string; online: boolean }> };
    expect(who.holders.map((h) => h.node).sort()).toEqual([...first.holders].sort());
    expect(get.code).toBe(0);
    expect(first.holders).toContain((JSON.parse(get.stdout) as { from: string }).from);
    expect(sha256Hex(await readFile(out))).toBe(first.id);
    const ls = JSON.parse(lsRun.stdout) as { chunks: Array<{ id: string; node: string }> };
    expect(ls.chunks.map((c) => c.id)).toContain(first.id);
    expect(ls.chunks.find((c) => c.id === first.id)?.node).toBe('owner');
  });

  it("pull brings a node's chunks into a folder, verified; run again, it keeps them", async () => {
    const dir = join(field.root, 'pull');
    // A bt node holding nothing that matches stays silent: the want_chunks waits out its deadline.
    const args = [
      'chunks',
      'pull',
      '--node',
      'owner',
      '--out',
      dir,
      '--broker',
      broker.url,
      '--deadline',
      '500',
      '--json',
    ];
    const first = await dameso(...args);
    expect(first.code).toBe(0);
    const got = JSON.parse(first.stdout) as { ids: string[]; fetched: Array<{ id: string }>; failed: unknown[] };
    expect(got.ids.length).toBeGreaterThan(0);
    expect(got.fetched.map((f) => f.id).sort()).toEqual(got.ids);
    expect(got.failed).toEqual([]);
    for (const id of got.ids) expect(sha256Hex(await readFile(join(dir, id)))).toBe(id);
    const again = JSON.parse((await dameso(...args)).stdout) as { fetched: unknown[]; present: string[] };
    expect(again.fetched).toEqual([]);
    expect(again.present.sort()).toEqual(got.ids);
    // Nothing matches: exit 0 and says so; no filter at all: exit 64.
    const [none, noFilter] = await Promise.all([
      dameso(
        'chunks',
        'pull',
        '--node',
        'nobody',
        '--out',
        join(field.root, 'none'),
        '--broker',
        broker.url,
        '--deadline',
        '500',
      ),
      dameso('chunks', 'pull', '--out', dir, '--broker', broker.url),
    ]);
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/^0 chunk\(s\) matching \{"node":"nobody"\} on 0 of 3 bt node\(s\)/);
    expect(noFilter.code).toBe(64);
  });

  it('get of a chunk nobody holds exits 69; a bad id exits 64', async () => {
    const [missing, bad] = await Promise.all([
      dameso('chunks', 'get', 'a'.repeat(64), '--broker', broker.url, '--deadline', '300'),
      dameso('chunks', 'get', 'nope', '--broker', broker.url),
    ]);
    expect(missing.code).toBe(69);
    // Nobody announces it: every online bt node was asked (they stay silent: not held).
    expect(missing.stderr).toMatch(/after asking 3 node\(s\)/);
    expect(bad.code).toBe(64);
  });
});

describe('the push progress line', () => {
  it('says how far through the range, how much went out and how much reached K', () => {
    const p = { fromSeq: 101, toSeq: 300, atSeq: 150, chunks: 4, bytes: 262_144, met: 3 };
    expect(pushProgressLine(p, 14_400)).toBe('pushing seq 101..300: 25 % (4 chunks, 0.3 MB, 3 at K) after 14 s');
    expect(pushProgressLine({ ...p, atSeq: 300 }, 0)).toMatch(/: 100 % /);
  });
});

import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNode } from '../../src/node.js';
import { runCli } from '../helpers/node-cli.js';

let root: string;

const dameso = (...args: string[]) => runCli(args);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dameso-usage-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('dameso usage errors', () => {
  it('unknown option, invalid choice, missing required option exit 64 (sub-commands too)', async () => {
    const dir = join(root, 's');
    const [bogus, choice, missing] = await Promise.all([
      dameso('series', 'append', '--dir', dir, '--count', '1', '--bogus'),
      dameso('series', 'append', '--dir', dir, '--count', '1', '--durability', 'sometimes'),
      dameso('node'),
    ]);
    expect(bogus.code).toBe(64);
    expect(bogus.stderr).toMatch(/^dameso: error: unknown option '--bogus' \[DAMESO_USAGE\]$/m);
    expect(choice.code).toBe(64);
    expect(choice.stderr).toMatch(/--durability/);
    expect(missing.code).toBe(64);
    expect(missing.stderr).toMatch(/required option '--id <id>'/);
  });

  it('--help and --version exit 0', async () => {
    const [help, subHelp, version] = await Promise.all([
      dameso('--help'),
      dameso('series', 'append', '--help'),
      dameso('--version'),
    ]);
    expect([help.code, subHelp.code, version.code]).toEqual([0, 0, 0]);
    expect(subHelp.stdout).toMatch(/--count <n> .*\(required\)/);
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(version.stdout.startsWith(`${pkg.version} (commit `)).toBe(true);
  });

  it('node/intent help carry examples and exit codes; chunks get shows no pid-derived default', async () => {
    const [node, intent, get] = await Promise.all([
      dameso('node', '--help'),
      dameso('intent', '--help'),
      dameso('chunks', 'get', '--help'),
    ]);
    for (const h of [node, intent]) {
      expect(h.stdout).toMatch(/Examples:/);
      expect(h.stdout).toMatch(/Exit codes:/);
    }
    expect(node.stdout).toMatch(/--id <id> .*\(required\)/);
    expect(get.stdout).toMatch(/cli-<random>/);
    expect(get.stdout).not.toMatch(/cli-\d/);
  });

  it('a bad option value is one line naming the flag, exit 64, no stack trace', async () => {
    const r = await dameso('series', 'append', '--dir', join(root, 's2'), '--count', '-5');
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/--count/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown role exits 78 listing the known roles', async () => {
    const r = await dameso('node', '--id', 'x', '--roles', 'bt,foo', '--data', join(root, 'n'), '--broker', 'embedded');
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/"foo"/);
    expect(r.stderr).toMatch(/known roles: bt, mapper/);
  });

  it('an unknown intent kind exits 64 listing the v1 kinds', async () => {
    const r = await dameso('intent', 'want_pizza', '--broker', 'mqtt://127.0.0.1:1');
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/want_pizza/);
    expect(r.stderr).toMatch(/want_chunk, store_chunk, want_chunks, want_observations/);
  });

  it('map needs --data (64); map and chunks push refuse a folder with no series (65) and create nothing', async () => {
    const empty = join(root, 'empty');
    await mkdir(empty);
    const [noData, map, push] = await Promise.all([
      dameso('map'),
      dameso('map', '--data', empty),
      dameso('chunks', 'push', '--data', empty, '--id', 'x', '--broker', 'mqtt://127.0.0.1:1'),
    ]);
    expect(noData.code).toBe(64);
    expect(noData.stderr).toMatch(/--data/);
    for (const r of [map, push]) {
      expect(r.code).toBe(65);
      expect(r.stderr).toMatch(/not a node data folder/);
      expect(r.stderr).toContain(empty);
    }
    expect(await readdir(empty)).toEqual([]);
  });

  it('createNode refuses an unknown role (DAMESO_BAD_CONFIG) but accepts a custom kind role', () => {
    expect(() => createNode({ id: 'n', dataDir: join(root, 'x'), roles: ['bt', 'foo'] })).toThrow(
      /unknown role "foo"; known roles: bt, mapper/,
    );
    expect(() =>
      createNode({ id: 'n', dataDir: join(root, 'x'), roles: ['echo'], kindRoles: { ping: 'echo' } }),
    ).not.toThrow();
  });
});

/**
 * `dameso node --config FILE`: the file's keys mirror the long flags, go through the flags' own
 * parsers, and a flag on the command line overrides the file (a flag's default does not). A bad
 * file is one line naming the key, exit 78. The real command runs once from a file (embedded
 * broker on port 0) and stops on SIGTERM.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterAll, describe, expect, test } from 'vitest';
import { EXIT } from '../../src/cli/exit.js';
import { registerNode } from '../../src/cli/node.js';
import {
  applyNodeConfig,
  FILE_KEYS,
  nodeConfigSchema,
  parseNodeConfig,
  readNodeConfig,
} from '../../src/cli/node-config.js';
import type { NodeFlags } from '../../src/cli/node-flags.js';
import { configError } from '../helpers/config-file.js';
import { finished, printed, runCli, spawnCli } from '../helpers/node-cli.js';
import { NodePool } from '../helpers/node-fixtures.js';

const EXAMPLE = fileURLToPath(new URL('../../devices/systemd/node.example.json', import.meta.url));
const pool = new NodePool();
afterAll(() => pool.cleanup());

async function configFile(content: unknown): Promise<string> {
  const file = path.join(await pool.dir('dameso-config-'), 'node.json');
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

/** The real `node` command's options and defaults, with an action that only returns the merged flags. */
async function merged(args: string[]): Promise<{ flags: NodeFlags; source: (key: string) => string | undefined }> {
  const program = new Command('dameso').exitOverride();
  registerNode(program);
  const node = program.commands.find((c) => c.name() === 'node');
  if (node === undefined) throw new Error('no node command');
  let flags: NodeFlags | undefined;
  node.exitOverride().action(async (_f: NodeFlags, cmd: Command) => {
    flags = await applyNodeConfig(cmd);
  });
  await program.parseAsync(['node', ...args], { from: 'user' });
  if (flags === undefined) throw new Error('action not run');
  return { flags, source: (key) => node.getOptionValueSource(key) };
}

describe('parsing a node config file', () => {
  test('a file key for every long flag of `dameso node` (a new flag needs its key)', () => {
    const program = new Command('dameso');
    registerNode(program);
    const flags = program.commands[0]?.options.map((o) => o.attributeName()) ?? [];
    const asFlags = Object.keys(nodeConfigSchema.shape).map((k) => FILE_KEYS[k] ?? k);
    expect(flags.filter((k) => k !== 'config').sort()).toEqual(asFlags.sort());
  });

  test('roles as "a,b" or as an array mean the same; numbers become the flag strings', () => {
    expect(parseNodeConfig('{"roles": "bt, mapper"}', 'f.json').roles).toBe('bt,mapper');
    expect(parseNodeConfig('{"roles": ["bt", "mapper"]}', 'f.json').roles).toBe('bt,mapper');
    expect(parseNodeConfig('{"roles": []}', 'f.json').roles).toBe('');
    const f = parseNodeConfig(
      '{"metricsPort": 9464, "position": {"lat": 48.8566, "lon": 2.3522}, "sensor": "/dev/x"}',
      'f',
    );
    expect(f).toEqual({ metricsPort: '9464', position: '48.8566,2.3522', sensor: ['/dev/x'] });
  });

  test('an unknown key is named (typo protection), exit 78', () => {
    const err = configError(() => parseNodeConfig('{"id": "a", "rolse": "bt"}', '/etc/dameso/node.json'));
    expect(err.message).toMatch(/^config "rolse": unknown key "rolse" in \/etc\/dameso\/node.json; known keys: id, /);
    expect(EXIT.forCode(err.code)).toBe(78);
  });

  test('a wrong type names the key path and what was expected', () => {
    expect(configError(() => parseNodeConfig('{"sensor": ["/dev/a", 5]}', 'f.json')).message).toBe(
      'config "sensor[1]": expected a string in f.json',
    );
    expect(configError(() => parseNodeConfig('{"roles": 5}', 'f.json')).message).toMatch(
      /^config "roles": expected a string "bt,mapper" or an array of strings in f.json$/,
    );
    expect(configError(() => parseNodeConfig('{"metricsPort": 70000}', 'f.json')).message).toMatch(
      /^config "metricsPort": expected a port number in \[0, 65535\]/,
    );
    expect(configError(() => parseNodeConfig('{"logLevel": "loud"}', 'f.json')).message).toMatch(
      /^config "logLevel": .*"info"/,
    );
    expect(configError(() => parseNodeConfig('["id"]', 'f.json')).message).toMatch(/expected object/);
  });

  test("values go through the flags' own checks, reported against the key", () => {
    expect(configError(() => parseNodeConfig('{"position": {"lat": 91, "lon": 2}}', 'f.json')).message).toBe(
      'config "position": latitude must be in [-90,90], got "91" (in f.json)',
    );
    // [2.35, 48.86] is Paris as GeoJSON [lon, lat] and a valid [lat, lon] off Africa: refused.
    expect(configError(() => parseNodeConfig('{"position": [2.3522, 48.8566]}', 'f.json')).message).toMatch(
      /^config "position": .*an array is ambiguous/,
    );
    expect(configError(() => parseNodeConfig('{"simulate": ["temp", "temp,gain=2"]}', 'f')).message).toMatch(
      /^config "simulate\[1\]": unknown option "gain"/,
    );
    expect(configError(() => parseNodeConfig('{"roles": "bt,foo"}', 'f')).message).toMatch(
      /^config "roles": unknown role\(s\) "foo"/,
    );
    expect(configError(() => parseNodeConfig('{"gps": "/dev/ttyACM0:0"}', 'f')).message).toMatch(
      /^config "gps": baud after "\/dev\/ttyACM0:" must be a positive integer/,
    );
  });

  test('bad JSON says where (line and column), one line', () => {
    const err = configError(() => parseNodeConfig('{\n  "id": "a",\n}\n', 'f.json'));
    expect(err.message).toMatch(/^config "f.json": not valid JSON: .* at line 3 column 1$/);
  });

  test('a missing file is a ConfigError naming it', async () => {
    await expect(readNodeConfig('/nonexistent/dameso/node.json')).rejects.toThrow(
      /config "--config": cannot read \/nonexistent\/dameso\/node.json \(ENOENT\)/,
    );
  });

  test('the systemd example passes validation', async () => {
    const f = await readNodeConfig(EXAMPLE);
    expect(f.id).toBe('pi-7');
    expect(f.roles).toBe('bt,mapper');
  });
});

describe('merging the file with the flags', () => {
  test('file values beat defaults; command-line flags beat the file', async () => {
    const file = await configFile({
      id: 'from-file',
      roles: ['bt'],
      broker: 'mqtt://hub:1883',
      logLevel: 'warn',
      sensor: ['/dev/a', '/dev/b'],
    });
    const { flags, source } = await merged(['--config', file, '--id', 'from-flag', '--sensor', '/dev/c']);
    expect(flags).toMatchObject({
      id: 'from-flag',
      roles: 'bt',
      broker: 'mqtt://hub:1883',
      logLevel: 'warn',
      sensor: ['/dev/c'], // a repeatable flag replaces the file's list
      embeddedPort: '1883', // neither: the flag's default
    });
    expect([source('id'), source('roles'), source('embeddedPort')]).toEqual(['cli', 'config', 'default']);
  });

  test('without --id and without "id" in the file: the usage error of a missing required option', async () => {
    const file = await configFile({ roles: 'bt' });
    await expect(merged(['--config', file])).rejects.toThrow(/required option '--id <id>' not specified/);
  });
});

describe('dameso node --config (real command)', () => {
  test('starts from the file (id, roles, data), a flag overrides the id, SIGTERM stops with 0', async () => {
    const data = await pool.dir();
    const file = await configFile({ id: 'cfg-node', roles: 'bt,mapper', data, embeddedPort: 0, logLevel: 'warn' });
    for (const [extra, id] of [
      [[], 'cfg-node'],
      [['--id', 'cfg-flag'], 'cfg-flag'],
    ] as const) {
      const child = spawnCli(['node', '--config', file, '--broker', 'embedded', ...extra]);
      const done = finished(child);
      await printed(child, 'online');
      child.kill('SIGTERM');
      const r = await done;
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`node ${id} online \\(session \\d+, roles bt,mapper\\) .*, data ${data}`));
      expect(r.stdout).toMatch(new RegExp(`node ${id} stopped`));
    }
  });

  test('a bad file exits 78 with one stderr line naming the key', async () => {
    const file = await configFile('{"id": "x", "brokr": "embedded"}');
    const r = await runCli(['node', '--config', file]);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/^dameso: config "brokr": unknown key "brokr" in .*node.json; known keys: .*\n$/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

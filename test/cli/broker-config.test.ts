/**
 * `dameso broker --config FILE`: the file's keys mirror the long flags, go through the flags' own
 * parsers, and a flag on the command line overrides the file (a flag's default does not). A bad
 * file is one line naming the key, exit 78. The real command runs once from a file (port 0).
 */
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterAll, describe, expect, test } from 'vitest';
import { type BrokerFlags, registerBroker } from '../../src/cli/broker.js';
import {
  applyBrokerConfig,
  brokerConfigSchema,
  parseBrokerConfig,
  readBrokerConfig,
} from '../../src/cli/broker-config.js';
import { EXIT } from '../../src/cli/exit.js';
import { ConfigFiles, configError } from '../helpers/config-file.js';
import { finished, printed, runCli, spawnCli } from '../helpers/node-cli.js';

const EXAMPLE = fileURLToPath(new URL('../../devices/systemd/broker.example.json', import.meta.url));
const files = new ConfigFiles();
afterAll(() => files.cleanup());

/** The real `broker` command's options and defaults. */
function brokerCommand(): Command {
  const program = new Command('dameso').exitOverride();
  registerBroker(program);
  const broker = program.commands.find((c) => c.name() === 'broker');
  if (broker === undefined) throw new Error('no broker command');
  return broker;
}

/** The real options and defaults, with an action that only returns the merged flags. */
async function merged(args: string[]): Promise<{ flags: BrokerFlags; source: (key: string) => string | undefined }> {
  const broker = brokerCommand();
  let flags: BrokerFlags | undefined;
  broker.exitOverride().action(async (_f: BrokerFlags, cmd: Command) => {
    flags = await applyBrokerConfig(cmd);
  });
  await broker.parent?.parseAsync(['broker', ...args], { from: 'user' });
  if (flags === undefined) throw new Error('action not run');
  return { flags, source: (key) => broker.getOptionValueSource(key) };
}

describe('parsing a broker config file', () => {
  test('a file key for every long flag of `dameso broker` (a new flag needs its key)', () => {
    const flags = brokerCommand().options.map((o) => o.attributeName());
    expect(flags.filter((k) => k !== 'config').sort()).toEqual(Object.keys(brokerConfigSchema.shape).sort());
  });

  test('numbers as numbers or digit strings mean the same; "check" and "json" are booleans', () => {
    const asNumbers = parseBrokerConfig('{"port": 1883, "maxPacket": 65536, "statsMs": 0, "check": false}', 'f');
    const asStrings = parseBrokerConfig('{"port": "1883", "maxPacket": "65536", "statsMs": "0", "check": false}', 'f');
    expect(asNumbers).toEqual({ port: '1883', maxPacket: '65536', statsMs: '0', check: false });
    expect(asStrings).toEqual(asNumbers);
    expect(parseBrokerConfig('{"json": true, "tcpHost": "127.0.0.1"}', 'f')).toEqual({
      json: true,
      tcpHost: '127.0.0.1',
    });
  });

  test('an unknown key is named (typo protection), exit 78', () => {
    const err = configError(() => parseBrokerConfig('{"port": 1883, "tlsCrt": "a"}', '/etc/dameso/broker.json'));
    expect(err.message).toMatch(
      /^config "tlsCrt": unknown key "tlsCrt" in \/etc\/dameso\/broker.json; known keys: host, port, /,
    );
    expect(EXIT.forCode(err.code)).toBe(78);
    // The flag's own spelling is not a key either.
    expect(configError(() => parseBrokerConfig('{"no-check": true}', 'f')).key).toBe('no-check');
  });

  test('a wrong type names the key and what was expected', () => {
    expect(configError(() => parseBrokerConfig('{"port": "abc"}', 'f.json')).message).toBe(
      'config "port": expected a port number in [0, 65535] in f.json',
    );
    expect(configError(() => parseBrokerConfig('{"check": "no"}', 'f.json')).message).toBe(
      'config "check": expected true or false in f.json',
    );
    expect(configError(() => parseBrokerConfig('{"maxPacket": "1 MB"}', 'f.json')).message).toBe(
      'config "maxPacket": expected a number of bytes (a whole number) in f.json',
    );
    expect(configError(() => parseBrokerConfig('{"host": ""}', 'f.json')).message).toBe(
      'config "host": must not be empty in f.json',
    );
    expect(configError(() => parseBrokerConfig('["port"]', 'f.json')).message).toMatch(/expected object/);
  });

  test("values go through the flags' own checks, reported against the key", () => {
    expect(configError(() => parseBrokerConfig('{"wsPort": 70000}', 'f.json')).message).toBe(
      'config "wsPort": expected a port number in [0, 65535], got "70000" (in f.json)',
    );
    expect(configError(() => parseBrokerConfig('{"wssPort": -1}', 'f.json')).key).toBe('wssPort');
    expect(configError(() => parseBrokerConfig('{"maxPacket": 10}', 'f.json')).message).toBe(
      'config "maxPacket": must be an integer in [64, 268435455], got "10" (in f.json)',
    );
    expect(configError(() => parseBrokerConfig('{"statsMs": 1.5}', 'f')).key).toBe('statsMs');
    expect(configError(() => parseBrokerConfig('{"prefix": "site/#"}', 'f')).message).toMatch(
      /^config "prefix": "site\/#" must be levels of/,
    );
    expect(configError(() => parseBrokerConfig('{"redis": "http://10.0.0.5"}', 'f')).message).toMatch(
      /^config "redis": .* must start with redis:\/\//,
    );
    expect(configError(() => parseBrokerConfig('{"id": "site a"}', 'f')).message).toMatch(
      /^config "id": must be 1-64 of \[A-Za-z0-9._-\], got "site a"/,
    );
  });

  test('bad JSON says where (line and column), one line', () => {
    const err = configError(() => parseBrokerConfig('{\n  "port": 1883,\n}\n', 'f.json'));
    expect(err.message).toMatch(/^config "f.json": not valid JSON: .* at line 3 column 1$/);
  });

  test('a missing file is a ConfigError naming it', async () => {
    await expect(readBrokerConfig('/nonexistent/dameso/broker.json')).rejects.toThrow(
      /config "--config": cannot read \/nonexistent\/dameso\/broker.json \(ENOENT\)/,
    );
  });

  test('the systemd example passes validation', async () => {
    const f = await readBrokerConfig(EXAMPLE);
    expect(f).toMatchObject({ port: '1883', tlsPort: '8883', authFile: '/etc/dameso/broker.users' });
  });
});

describe('merging the file with the flags', () => {
  test('file values beat defaults; command-line flags beat the file', async () => {
    const file = await files.write('broker.json', { port: 1884, prefix: 'site-a', statsMs: 0, check: false });
    const { flags, source } = await merged(['--config', file, '--port', '1885']);
    expect(flags).toMatchObject({
      port: '1885',
      prefix: 'site-a',
      statsMs: '0',
      check: false,
      host: '0.0.0.0', // neither: the flag's default
    });
    expect([source('port'), source('prefix'), source('check'), source('host')]).toEqual([
      'cli',
      'config',
      'config',
      'default',
    ]);
  });

  test('"check": true in the file gives way to --no-check on the command line', async () => {
    const file = await files.write('broker.json', { check: true });
    expect((await merged(['--config', file, '--no-check'])).flags.check).toBe(false);
  });

  test('TLS settings from the file alone must be complete (the missing key is named); a flag may complete them', async () => {
    const half = await files.write('broker.json', { tlsPort: 8883, tlsCert: '/etc/dameso/broker.crt' });
    await expect(merged(['--config', half])).rejects.toThrow(
      /^config "tlsKey": tlsPort, tlsCert and tlsKey go together: tlsKey missing \(in .*broker.json\)$/,
    );
    const { flags } = await merged(['--config', half, '--tls-key', '/etc/dameso/broker.key']);
    expect(flags).toMatchObject({ tlsPort: '8883', tlsKey: '/etc/dameso/broker.key' });
    const wss = await files.write('broker.json', { wssPort: 8884 });
    await expect(merged(['--config', wss])).rejects.toThrow(
      /^config "wssPort": needs tlsPort, tlsCert and tlsKey \(its certificate\) \(in .*broker.json\)$/,
    );
    const withTls = await files.write('broker.json', {
      wssPort: 8884,
      tlsPort: 8883,
      tlsCert: '/etc/dameso/broker.crt',
      tlsKey: '/etc/dameso/broker.key',
    });
    expect((await merged(['--config', withTls])).flags).toMatchObject({ wssPort: '8884', tlsPort: '8883' });
    const host = await files.write('broker.json', { metricsHost: '0.0.0.0' });
    await expect(merged(['--config', host])).rejects.toThrow(/^config "metricsHost": needs metricsPort/);
  });

  test('--help shows --config with an example', () => {
    const broker = brokerCommand();
    let help = '';
    broker.configureOutput({ writeOut: (s) => (help += s) });
    broker.outputHelp();
    expect(help).toMatch(/--config <file>/);
    expect(help).toMatch(/dameso broker --config \/etc\/dameso\/broker.json/);
  });
});

describe('dameso broker --config (real command)', () => {
  test('listens as the file says (host, port 0, tcpHost, prefix) and stops with 0 on SIGTERM', async () => {
    const file = await files.write('broker.json', {
      host: '127.0.0.1',
      tcpHost: '127.0.0.1',
      port: 0,
      prefix: 'site-cfg',
      maxPacket: 4096,
      statsMs: 0,
    });
    const child = spawnCli(['broker', '--config', file]);
    const done = finished(child);
    await printed(child, 'listening');
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^dameso broker listening on mqtt:\/\/127\.0\.0\.1:\d+ \(root site-cfg\/v1, max packet 4096 bytes, max \d+ connections, 64 per address(, descriptor limit \d+)?\)$/m,
    );
  });

  test('a bad file exits 78 with one stderr line naming the key', async () => {
    const file = await files.write('broker.json', '{"port": 0, "tlsCrt": "/etc/dameso/broker.crt"}');
    const r = await runCli(['broker', '--config', file]);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/^dameso: config "tlsCrt": unknown key "tlsCrt" in .*broker.json; known keys: .*\n$/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

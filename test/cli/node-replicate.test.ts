/** `dameso node --replicate K` (config `replicate`): checked values, the start line, --help. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_REPLICATE } from '../../src/chunks/index.js';
import { parseNodeConfig } from '../../src/cli/node-config.js';
import { parseReplicate } from '../../src/cli/node-flags.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { finished, printed, runCli, spawnCli } from '../helpers/node-cli.js';

let broker: BrokerHandle;
let root: string;

beforeAll(async () => {
  broker = await startAedes();
  root = await mkdtemp(join(tmpdir(), 'dameso-replicate-'));
});

afterAll(async () => {
  await broker?.stop();
  await rm(root, { recursive: true, force: true });
});

describe('--replicate', () => {
  it('defaults to DEFAULT_REPLICATE (3); 0 is off; anything but 0..64 is refused', () => {
    expect(DEFAULT_REPLICATE).toBe(3);
    expect(parseReplicate(undefined)).toBe(3);
    expect(parseReplicate('0')).toBe(0);
    expect(parseReplicate('5')).toBe(5);
    for (const bad of ['', '-1', '1.5', 'three', '65']) expect(() => parseReplicate(bad)).toThrow(/--replicate/);
  });

  it('a bad flag: one line, exit 64; a bad file value: one line naming the key, exit 78', async () => {
    const flag = await runCli(['node', '--id', 'r0', '--replicate', 'x']);
    expect(flag.code).toBe(64);
    expect(flag.stderr.trim().split('\n')).toEqual([
      'dameso: --replicate: expected an integer from 0 (off) to 64, got "x" [DAMESO_USAGE]',
    ]);
    const file = join(root, 'bad.json');
    await writeFile(file, JSON.stringify({ id: 'r0', replicate: 100 }));
    const conf = await runCli(['node', '--config', file]);
    expect(conf.code).toBe(78);
    expect(conf.stderr.trim().split('\n')).toHaveLength(1);
    expect(conf.stderr).toMatch(/config "replicate".*\[DAMESO_BAD_CONFIG\]/);
    expect(parseNodeConfig(JSON.stringify({ replicate: 2 }), 'f.json').replicate).toBe('2');
  });

  it('the start line names the backup (K, or off)', async () => {
    for (const [args, says] of [
      [[], `backup to ${DEFAULT_REPLICATE} storage nodes`],
      [['--replicate', '0'], 'backup off'],
    ] as const) {
      const id = `r${args.length}`;
      const child = spawnCli(['node', '--id', id, '--broker', broker.url, '--data', join(root, id), ...args]);
      const done = finished(child);
      await printed(child, ' online ');
      child.kill('SIGTERM');
      const r = await done;
      expect(r.code).toBe(0);
      expect(r.stdout.split('\n')[0]).toContain(`, ${says};`);
    }
  });

  it('--help teaches it with an example', async () => {
    const r = await runCli(['node', '--help']);
    expect(r.stdout).toContain('--replicate <k>');
    expect(r.stdout).toContain('--replicate 2');
    expect(r.stdout).toMatch(/Backup \(--replicate K, default 3, 0 = off\)/);
  });
});

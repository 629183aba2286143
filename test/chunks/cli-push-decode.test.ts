/**
 * `dameso chunks push` when fewer storage nodes than K are online (one line, exit 69, in text and
 * --json, the covered part of the range in the summary), and `dameso chunks decode` on real chunk
 * files taken from a holder: sound ones print, a damaged one and a non-chunk get one line each and
 * exit 65. Real broker, real bt nodes, the real command in child processes.
 */
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHUNKS_DIR_NAME } from '../../src/chunks/index.js';
import { sha256Hex } from '../../src/chunks/verify.js';
import { coverage, coverageLine } from '../../src/cli/chunks.js';
import { silentLogger } from '../../src/log.js';
import { createNode } from '../../src/node.js';
import { decodeChunk } from '../../src/series/index.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { createField, type Field } from '../helpers/chunks-field.js';
import { flipByte } from '../helpers/chunks-fixtures.js';
import { runCli } from '../helpers/node-cli.js';

let broker: BrokerHandle;
let field: Field;
let owner: string;

const push = (...extra: string[]) =>
  runCli(['chunks', 'push', '--data', owner, '--id', 'owner', '--broker', broker.url, '--max-entries', '10', ...extra]);
const lines = (text: string) => text.split('\n').filter((l) => l !== '');

beforeAll(async () => {
  broker = await startAedes();
  field = await createField(broker.url);
  for (const id of ['pd-bt-1', 'pd-bt-2']) await field.start(id);
  owner = join(field.root, 'owner');
  const node = createNode({ id: 'owner', broker: broker.url, dataDir: owner, log: silentLogger });
  await node.start();
  for (let i = 0; i < 30; i++) await node.series.append({ event: 'temp', i, raw: new Uint8Array([i, 255]) });
  await node.stop();
});

afterAll(async () => {
  await field?.stopAll();
  await broker?.stop();
});

describe('dameso chunks push with fewer storage nodes online than K', () => {
  it('says "only 2 of 3 storage nodes online" on one line, pushes nothing, covers 0 %, exits 69', async () => {
    const r = await push('--replicas', '3');
    expect(r.code).toBe(69);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^dameso: only 2 of 3 storage nodes online: pd-bt-\d, pd-bt-\d; .*\[DAMESO_TOO_FEW_STORAGE_NODES\]\n$/,
    );
    expect(r.stdout).toMatch(/^seq 1\.\.\d+: covered nothing \(0 % of the range\), 0 chunk\(s\)\n$/);
  });

  it('in --json too: the same line on stderr, exit 69, and the covered share (0) in the object', async () => {
    const r = await push('--replicas', '3', '--json');
    expect(r.code).toBe(69);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain('only 2 of 3 storage nodes online');
    const res = JSON.parse(r.stdout) as {
      fromSeq: number;
      toSeq: number;
      covered: { fromSeq: number; toSeq: number; share: number };
      online: string[];
      replicas: number;
      chunks: unknown[];
    };
    expect(res.chunks).toEqual([]);
    expect(res.covered).toEqual({ fromSeq: res.fromSeq, toSeq: res.fromSeq - 1, share: 0 });
    expect(res.toSeq).toBeGreaterThan(res.fromSeq);
    expect(res.online.sort()).toEqual(['pd-bt-1', 'pd-bt-2']);
    expect(res.replicas).toBe(3);
  });

  it('with K reachable it covers the whole range and says so', async () => {
    const r = await push('--replicas', '2');
    expect(r.code).toBe(0);
    const m = /^seq (\d+)\.\.(\d+): covered (\d+)\.\.(\d+) \(100 % of the range\), (\d+) chunk\(s\)$/m.exec(r.stdout);
    expect(m).not.toBeNull();
    expect([m?.[3], m?.[4]]).toEqual([m?.[1], m?.[2]]);
  });

  it('reports a partial cover as the prefix replicated, against the whole range', () => {
    const res = { fromSeq: 11, toSeq: 110, coveredToSeq: 50, chunks: [] };
    expect(coverage(res)).toEqual({ fromSeq: 11, toSeq: 50, share: 0.4 });
    expect(coverageLine(res, coverage(res))).toBe('seq 11..110: covered 11..50 (40 % of the range)');
  });
});

describe('dameso chunks decode', () => {
  /** Chunk files as a holder keeps them (`<id>` in its chunks folder), copied to `dir`. */
  async function heldChunks(dir: string): Promise<string[]> {
    const src = join(field.root, 'pd-bt-1', CHUNKS_DIR_NAME);
    const ids = (await readdir(src)).filter((f) => /^[0-9a-f]{64}$/.test(f));
    await mkdir(dir, { recursive: true });
    for (const id of ids) await copyFile(join(src, id), join(dir, id));
    return ids;
  }

  it('prints the entries of sound files (jsonl, bytes as base64); a damaged file and a non-chunk get one line each, exit 65', async () => {
    const dir = join(field.root, 'decode');
    const ids = await heldChunks(dir);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    // The sound file: a chunk holding entries with bytes (the owner's `temp` entries); the damaged one: another.
    const hasBytes = async (id: string) =>
      decodeChunk(await readFile(join(dir, id))).events.some((e) => e.raw instanceof Uint8Array);
    let good = '';
    for (const id of ids) if (!good && (await hasBytes(id))) good = id;
    const bad = ids.find((id) => id !== good) ?? '';
    expect(good).not.toBe('');
    await writeFile(join(dir, bad), flipByte(await readFile(join(dir, bad))));
    const notChunk = Buffer.from('not a chunk');
    const notChunkId = sha256Hex(notChunk);
    await writeFile(join(dir, notChunkId), notChunk);

    const r = await runCli(['chunks', 'decode', join(dir, bad), join(dir, good), join(dir, notChunkId)]);
    expect(r.code).toBe(65);
    const errs = lines(r.stderr);
    expect(errs).toHaveLength(2);
    expect(errs[0]).toMatch(new RegExp(`${bad}: its bytes hash to .*\\[DAMESO_CHUNK_HASH_MISMATCH\\]$`));
    expect(errs[1]).toMatch(/\[DAMESO_BAD_CHUNK\]$/);
    const expected = decodeChunk(await readFile(join(dir, good)));
    const printed = lines(r.stdout).map((l) => JSON.parse(l) as { seq: number; raw?: string });
    expect(printed.map((e) => e.seq)).toEqual(expected.events.map((e) => e.seq));
    const withBytes = printed.find((e) => e.raw !== undefined);
    const original = expected.events.find((e) => e.seq === withBytes?.seq);
    expect(Buffer.from(String(withBytes?.raw), 'base64')).toEqual(Buffer.from(original?.raw as Uint8Array));
  });

  it('--format json prints one object; --id names a file not named by its id', async () => {
    const dir = join(field.root, 'decode-json');
    const [id] = (await heldChunks(dir)) as [string];
    const renamed = join(dir, 'chunk.cbor');
    await copyFile(join(dir, id), renamed);
    const r = await runCli(['chunks', 'decode', renamed, '--id', id, '--format', 'json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { chunks: Array<{ id: string; node: string; events: unknown[] }> };
    expect(out.chunks).toHaveLength(1);
    expect(out.chunks[0]).toMatchObject({ id, node: 'owner' });
    expect(out.chunks[0]?.events.length).toBeGreaterThan(0);

    const unnamed = await runCli(['chunks', 'decode', renamed]);
    expect(unnamed.code).toBe(65);
    expect(unnamed.stderr).toMatch(/^dameso: .*chunk\.cbor: its name is not a chunk id.*\[DAMESO_BAD_CHUNK_ID\]\n$/);
  });

  it('bad flags: one line, exit 64', async () => {
    const fmt = await runCli(['chunks', 'decode', 'x', '--format', 'xml']);
    expect(fmt.code).toBe(64);
    expect(lines(fmt.stderr)).toEqual(['dameso: --format must be jsonl or json, got "xml" [DAMESO_USAGE]']);
    const id = 'a'.repeat(64);
    const two = await runCli(['chunks', 'decode', 'x', 'y', '--id', id]);
    expect(two.code).toBe(64);
    expect(lines(two.stderr)).toHaveLength(1);
  });
});

/**
 * `dameso chunks decode FILE…`: the entries of chunk files pulled back (`chunks pull`, `chunks get
 * --out`), each verified against its content id first. A file named by its id needs nothing more;
 * one file named otherwise takes `--id`. A file that is unreadable, not a chunk, or whose bytes do
 * not hash to its id gets one line on stderr and makes the exit 65; the others are still printed.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { hashMismatch, isChunkId } from '../chunks/index.js';
import { DamesoError, messageOf } from '../errors.js';
import { type ChunkMap, decodeChunk } from '../series/index.js';
import { chunkIdArg, out } from './chunks-net.js';
import { EXIT } from './exit.js';

type Format = 'jsonl' | 'json';

interface Decoded {
  file: string;
  id: string;
  chunk: ChunkMap;
}

/** A decoded CBOR value made JSON-safe: byte strings as base64 text, big integers as numbers or text. */
export function jsonSafe(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), jsonSafe(x)]));
  if (typeof v === 'object' && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}

/** Reads, verifies and decodes one file; throws a coded error saying what is wrong with it. */
export async function decodeFile(file: string, id: string | undefined): Promise<Decoded> {
  const want = id ?? basename(file);
  if (!isChunkId(want)) {
    throw new DamesoError(
      'DAMESO_BAD_CHUNK_ID',
      `${file}: its name is not a chunk id (64 lowercase hex); name it by its id or pass --id`,
    );
  }
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new DamesoError('DAMESO_IO', `${file}: cannot read (${err.code ?? err.message})`);
  });
  const actual = hashMismatch(want, bytes);
  if (actual !== undefined) {
    throw new DamesoError(
      'DAMESO_CHUNK_HASH_MISMATCH',
      `${file}: its bytes hash to ${actual.slice(0, 12)}…, not to its id ${want.slice(0, 12)}… (damaged or not that chunk)`,
    );
  }
  try {
    return { file, id: want, chunk: decodeChunk(bytes) };
  } catch (err) {
    throw new DamesoError('DAMESO_BAD_CHUNK', `${file}: ${messageOf(err)}`);
  }
}

/** jsonl prints each file's entries as soon as it is verified; json prints one object at the end. */
function printer(format: Format): { add(d: Decoded): void; end(): void } {
  const held: object[] = [];
  return {
    add(d) {
      if (format === 'jsonl') for (const e of d.chunk.events) out(JSON.stringify(jsonSafe(e)));
      else held.push({ file: d.file, id: d.id, ...(jsonSafe(d.chunk) as object) });
    },
    end() {
      if (format === 'json') out(JSON.stringify({ chunks: held }));
    },
  };
}

export function registerDecode(chunks: Command): void {
  chunks
    .command('decode')
    .argument('<files...>', 'chunk files, each named by its id (what `chunks pull` writes)')
    .description(
      'print the entries of chunk files, each checked against its content id first (SHA-256 of the bytes): ' +
        'a damaged or foreign file gets one line on stderr and exit 65, the other files are still printed',
    )
    .option('--id <id>', 'the chunk id of a single file not named by its id (e.g. `chunks get --out chunk.cbor`)')
    .option(
      '--format <fmt>',
      'jsonl: one entry per line; json: one object {chunks:[{file,id,node,...,events}]}',
      'jsonl',
    )
    .addHelpText(
      'after',
      `
Byte strings in entries print as base64 text.
Examples:
  dameso chunks decode ./pi-7-chunks/*
  dameso chunks decode chunk.cbor --id 3f1c…e9 --format json
  dameso chunks decode ./pi-7-chunks/* | grep '"event":"observation"'`,
    )
    .action(async (files: string[], f: { id?: string; format: string }) => {
      if (f.format !== 'jsonl' && f.format !== 'json') {
        throw new DamesoError('DAMESO_USAGE', `--format must be jsonl or json, got "${f.format}"`);
      }
      const id = f.id === undefined ? undefined : chunkIdArg(f.id);
      if (id !== undefined && files.length > 1) {
        throw new DamesoError('DAMESO_USAGE', `--id names one file's chunk; got ${files.length} files`);
      }
      const printed = printer(f.format);
      for (const file of files) {
        try {
          printed.add(await decodeFile(file, id));
        } catch (err) {
          if (!(err instanceof DamesoError)) throw err;
          process.stderr.write(`dameso: ${err.message} [${err.code}]\n`);
          process.exitCode = EXIT.dataErr;
        }
      }
      printed.end();
    });
}

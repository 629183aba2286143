/** Chunk fixtures for the chunks tests: real v1 chunk maps, encoded, with their real ids. */
import { encode } from 'cbor-x';
import { sha256Hex } from '../../src/chunks/verify.js';
import type { IntentHandler } from '../../src/intent/types.js';
import type { ChunkMap, Entry } from '../../src/series/types.js';

export interface TestChunk {
  id: string;
  bytes: Uint8Array;
  chunk: ChunkMap;
}

/** A chunk of `entries` entries from `node`, each padded so the chunk weighs about `approxBytes`. */
export function makeChunk(
  node: string,
  opts: { firstSeq?: number; entries?: number; approxBytes?: number; event?: string; t0?: number } = {},
): TestChunk {
  const firstSeq = opts.firstSeq ?? 1;
  const n = opts.entries ?? 4;
  const pad = Math.max(0, Math.floor((opts.approxBytes ?? 256) / n) - 40);
  const t0 = opts.t0 ?? 1_700_000_000_000;
  const events: Entry[] = [];
  for (let i = 0; i < n; i++) {
    events.push({
      seq: firstSeq + i,
      t: t0 + i * 1000,
      event: opts.event ?? 'reading',
      value: i,
      pad: 'x'.repeat(pad),
    });
  }
  const chunk: ChunkMap = {
    v: 1,
    node,
    first_seq: firstSeq,
    last_seq: firstSeq + n - 1,
    start_t: t0,
    end_t: t0 + (n - 1) * 1000,
    events,
  };
  const bytes = new Uint8Array(encode(chunk));
  return { id: sha256Hex(bytes), bytes, chunk };
}

/** A copy of `bytes` with one byte flipped in the middle (a liar's or a rotten disk's). */
export function flipByte(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes);
  const i = Math.floor(copy.length / 2);
  copy[i] = (copy[i] ?? 0) ^ 0xff;
  return copy;
}

/** Hex of some bytes, so tests compare Buffers and Uint8Arrays by content. */
export function hex(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined
    ? undefined
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** A `wrapHandlers` that replaces the handler of `kind` with `wrap(it)`: liars and refusers. */
export function wrapKind(
  kind: string,
  wrap: (h: IntentHandler) => IntentHandler,
): (handlers: IntentHandler[]) => IntentHandler[] {
  return (handlers) => handlers.map((h) => (h.kind === kind ? wrap(h) : h));
}

/**
 * The answer side of the chunk kinds (role `bt`; docs/protocol.md §10). The limiters' gate runs
 * before `handle` (the intent layer calls it); these handlers decide only what the store can say.
 *
 * - `store_chunk` (subject = id, body = bytes): YES once stored and announced; NO `too_large`,
 *   `bad_request` (malformed body, bad id, hash mismatch), `storage_full`. A chunk already held is
 *   answered YES (it *is* stored), so a re-push counts existing replicas instead of copying again.
 * - `want_chunk` (subject = id): relevant only when held, else silence (paradigm: not having the
 *   thing is silence, not NO); YES data = the verified bytes.
 * - `want_chunks` (body = filter): YES data = matching ids from the index (no chunk is read);
 *   silence when nothing matches.
 */
import type { Answer, IntentHandler, ReceivedIntent } from '../intent/index.js';
import type { Logger } from '../log.js';
import type { Series } from '../series/index.js';
import { MAX_IDS_PER_ANSWER } from './constants.js';
import { parseFilter } from './meta.js';
import type { ChunkStore } from './store.js';
import { isChunkId } from './verify.js';

export interface ChunkHandlersDeps {
  store: ChunkStore;
  series: Series;
  log: Logger;
  /** Publish the retained `have` record; resolves once the broker acknowledged it (QoS 1). */
  announce(id: string, size: number): Promise<void>;
}

export const BT_ROLE = 'bt';

/** Appends `chunk_rejected` against the sender: reputation input (hash mismatch is the strongest negative). */
export async function recordRejected(
  series: Series,
  from: string,
  id: string,
  reason: 'hash_mismatch' | 'malformed',
  via: 'store_chunk' | 'want_chunk',
): Promise<void> {
  await series.append({ event: 'chunk_rejected', from, id, reason, via });
}

function asBytes(body: unknown): Uint8Array | undefined {
  return body instanceof Uint8Array ? body : undefined;
}

export function createChunkHandlers(deps: ChunkHandlersDeps): IntentHandler[] {
  // Read through `deps` on each call (never destructured): the service binds them late.

  const storeChunk: IntentHandler = {
    kind: 'store_chunk',
    role: BT_ROLE,
    async handle({ envelope }: ReceivedIntent) {
      const id = envelope.subject;
      const bytes = asBytes(envelope.body);
      if (!isChunkId(id) || !bytes) return { r: 'no', reason: 'bad_request' };
      if (bytes.length > deps.store.maxChunkBytes) return { r: 'no', reason: 'too_large' };
      try {
        // Chunks evicted to make room are withdrawn by the store's `onEvicted` (the service wires it).
        await deps.store.put(id, bytes);
        await deps.announce(id, bytes.length);
        return { r: 'yes' };
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'DAMESO_CHUNK_TOO_LARGE') return { r: 'no', reason: 'too_large' };
        if (code === 'DAMESO_STORAGE_FULL') return { r: 'no', reason: 'storage_full' };
        if (code === 'DAMESO_CHUNK_HASH_MISMATCH') {
          await recordRejected(deps.series, envelope.from, id, 'hash_mismatch', 'store_chunk');
          return { r: 'no', reason: 'bad_request' };
        }
        if (code === 'DAMESO_MALFORMED_CHUNK') {
          await recordRejected(deps.series, envelope.from, id, 'malformed', 'store_chunk');
          return { r: 'no', reason: 'bad_request' };
        }
        throw err;
      }
    },
  };

  const wantChunk: IntentHandler = {
    kind: 'want_chunk',
    role: BT_ROLE,
    relevant: ({ envelope }) => isChunkId(envelope.subject) && deps.store.has(envelope.subject),
    handle({ envelope }) {
      const id = envelope.subject;
      if (!isChunkId(id)) return { r: 'silence', why: 'not a chunk id' };
      // Served straight from the cache when hot (no copy: the intent layer encodes it at once), and
      // synchronously then: the answer side replies without a promise or a microtask hop.
      const hot = deps.store.serveCached(id);
      if (hot) return { r: 'yes', data: hot };
      return deps.store
        .serve(id)
        .then((bytes): Answer => (bytes ? { r: 'yes', data: bytes } : { r: 'silence', why: 'not held' }));
    },
  };

  const wantChunks: IntentHandler = {
    kind: 'want_chunks',
    role: BT_ROLE,
    relevant: () => deps.store.usedBytes() > 0,
    handle({ envelope }) {
      const filter = parseFilter(envelope.body);
      if (!filter) return { r: 'no', reason: 'bad_request' };
      const ids = deps.store.find(filter, MAX_IDS_PER_ANSWER);
      if (ids.length === 0) return { r: 'silence', why: 'no matching chunk' };
      return { r: 'yes', data: ids };
    },
  };

  return [storeChunk, wantChunk, wantChunks];
}

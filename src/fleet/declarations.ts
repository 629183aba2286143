/**
 * What the fleet's requester declares, in turn, for the nodes' roles.
 */
import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../chunks/verify.js';
import { buildChunk } from '../series/index.js';

export const REQUESTER_ID = 'fleet-requester';

/** Random bytes (base64) in each chunk the requester pushes with `store_chunk`. */
const CHUNK_BYTES = 1024;
/** Chunk ids remembered for `want_chunk` (the newest pushed). */
const KEEP_IDS = 100;
/**
 * Storage nodes each pushed chunk is addressed to, count: as a node's backup places a chunk on K
 * nodes, not on the whole fleet (every bt node of a large fleet writing every chunk to one disk
 * would measure the disk, not the fleet).
 */
export const STORE_REPLICAS = 3;

export interface Declaration {
  kind: string;
  subject: string;
  body?: Uint8Array;
  /** The peers addressed (the rest stay out of the expected set); absent: every peer of the role. */
  to?: string[];
}

/** `k` distinct picks from `from` (all of them when there are no more). */
function pick(from: readonly string[], k: number): string[] {
  const rest = [...from];
  const out: string[] = [];
  while (out.length < k && rest.length > 0) out.push(rest.splice(Math.floor(Math.random() * rest.length), 1)[0]!);
  return out;
}

/**
 * What the requester declares, in turn, for the fleet's roles. `bt`: push a fresh chunk
 * (`store_chunk`: YES from the nodes that stored it), ask for a pushed one (`want_chunk`: YES from
 * its holders, including a restarted node that reopened its store) and for an unknown one (silence).
 * `mapper`: `want_observations` for a cell (nodes without sensors stay silent). `storageNodes` gives
 * the online bt nodes a chunk is pushed to (`STORE_REPLICAS` of them).
 */
export function declarations(roles: string[], storageNodes: () => string[]): Array<() => Declaration> {
  const stored: string[] = [];
  const out: Array<() => Declaration> = [];
  if (roles.includes('bt')) {
    let seq = 0;
    out.push(() => {
      // A well-formed v1 chunk (a receiver refuses other bytes as bad_request): one event of filler.
      seq++;
      const filler = randomBytes(CHUNK_BYTES).toString('base64');
      const { id: subject, bytes: body } = buildChunk(REQUESTER_ID, [{ seq, t: Date.now(), event: 'fleet', filler }]);
      stored.push(subject);
      if (stored.length > KEEP_IDS) stored.shift();
      return { kind: 'store_chunk', subject, body, to: pick(storageNodes(), STORE_REPLICAS) };
    });
    out.push(() => ({
      kind: 'want_chunk',
      subject: stored[Math.floor(Math.random() * stored.length)] ?? sha256Hex(randomBytes(8)),
    }));
    out.push(() => ({ kind: 'want_chunk', subject: sha256Hex(randomBytes(8)) }));
  }
  if (roles.includes('mapper')) {
    out.push(() => ({ kind: 'want_observations', subject: `u4pruyd${'0123456789bcdefg'[randomBytes(1)[0]! % 16]}` }));
  }
  return out;
}

/**
 * Small per-chunk metadata kept in the store's index, so `want_chunks` is answered without reading
 * a single chunk file: who cut it, its seq range, its time range, the event types in it.
 */
import type { ChunkMap } from '../series/index.js';
import { MAX_EVENT_TYPES_PER_CHUNK } from './constants.js';

export interface ChunkMeta {
  /** Bytes of the chunk file. */
  size: number;
  /** The node whose series the chunk was cut from. */
  node: string;
  first_seq: number;
  last_seq: number;
  /** Smallest and largest entry `t` in the chunk (ms; `t` is not sorted, so these are min/max, not first/last). */
  min_t: number;
  max_t: number;
  /** Distinct event types, at most `MAX_EVENT_TYPES_PER_CHUNK`; `types_truncated` when there were more. */
  types: string[];
  types_truncated?: boolean;
}

/** The filter of a `want_chunks` body (docs/protocol.md §10: `{event?, node?, from_t?, to_t?}`). */
export interface ChunkFilter {
  event?: string;
  node?: string;
  from_t?: number;
  to_t?: number;
}

/** Metadata of a decoded chunk of `size` bytes. */
export function metaOf(chunk: ChunkMap, size: number): ChunkMeta {
  let minT = Number.POSITIVE_INFINITY;
  let maxT = Number.NEGATIVE_INFINITY;
  const types = new Set<string>();
  let truncated = false;
  for (const e of chunk.events) {
    if (e.t < minT) minT = e.t;
    if (e.t > maxT) maxT = e.t;
    if (!types.has(e.event)) {
      if (types.size < MAX_EVENT_TYPES_PER_CHUNK) types.add(e.event);
      else truncated = true;
    }
  }
  if (chunk.events.length === 0) {
    minT = chunk.start_t;
    maxT = chunk.end_t;
  }
  const meta: ChunkMeta = {
    size,
    node: chunk.node,
    first_seq: chunk.first_seq,
    last_seq: chunk.last_seq,
    min_t: minT,
    max_t: maxT,
    types: [...types].sort(),
  };
  if (truncated) meta.types_truncated = true;
  return meta;
}

/**
 * True when the chunk may hold entries matching the filter. A chunk whose type list was truncated
 * matches any event type (a false positive costs one fetch; a false negative would hide data).
 */
export function matchesFilter(meta: ChunkMeta, f: ChunkFilter): boolean {
  if (f.node !== undefined && meta.node !== f.node) return false;
  if (f.event !== undefined && !meta.types.includes(f.event) && !meta.types_truncated) return false;
  if (f.from_t !== undefined && meta.max_t < f.from_t) return false;
  if (f.to_t !== undefined && meta.min_t > f.to_t) return false;
  return true;
}

/** Parses a `want_chunks` body; `undefined` when it is not a well-formed filter (answer NO bad_request). */
export function parseFilter(body: unknown): ChunkFilter | undefined {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body) || body instanceof Uint8Array) return undefined;
  const b = body as Record<string, unknown>;
  const f: ChunkFilter = {};
  for (const key of Object.keys(b)) {
    const v = b[key];
    if (v === undefined || v === null) continue;
    if (key === 'event' || key === 'node') {
      if (typeof v !== 'string' || v.length === 0 || v.length > 64) return undefined;
      f[key] = v;
    } else if (key === 'from_t' || key === 'to_t') {
      if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
      f[key] = v;
    } else {
      return undefined;
    }
  }
  return f;
}

/**
 * Measures the retained-vs-SUBACK race (docs/protocol.md §6): N retained presence
 * records are stored, then a fresh client subscribes to `R/presence/+` and, right after SUBACK,
 * publishes a marker to itself. Counts which retained records arrive before SUBACK, after SUBACK and
 * after the marker, and how long the retained stream keeps going after SUBACK.
 */
import { performance } from 'node:perf_hooks';
import {
  clientIdForNode,
  createSyncRecord,
  createTopics,
  encode,
  rosterBarrierSubscription,
} from '../../src/protocol/index.js';
import { connectClient } from './broker-clients.js';

export interface RaceResult {
  records: number;
  /** Retained records received before the SUBACK. */
  beforeSuback: number;
  /** Retained records received after the SUBACK. */
  afterSuback: number;
  /** Retained records received after the marker published right after SUBACK came back. */
  afterMarker: number;
  /** ms from SUBACK to the last retained record (0 when all came before SUBACK). */
  tailAfterSubackMs: number;
  /** Longest gap between two consecutive retained records after SUBACK, ms. */
  maxGapMs: number;
  /** ms from SUBACK to the marker's arrival. */
  markerRoundTripMs: number;
}

/**
 * How the reader marks "the retained records are in":
 * - `marker0` / `marker1`: right after SUBACK, publish a marker to itself at QoS 0 / QoS 1;
 * - `sync`: the roster barrier of src/protocol/roster-barrier.ts (retained `R/sync/{node}` record,
 *   that filter LAST in the same SUBSCRIBE as `R/presence/+`).
 */
export type RaceMethod = 'marker0' | 'marker1' | 'sync';

export async function measureRetainedRace(
  url: string,
  records = 500,
  method: RaceMethod = 'marker0',
  prefix = 'dameso',
): Promise<RaceResult> {
  const topics = createTopics(prefix);
  const ids = Array.from({ length: records }, (_, i) => `race-${String(i).padStart(4, '0')}`);
  // The dameso broker takes a node's presence only from its own client id `dameso.{node}`: each
  // record goes over its node's connection.
  await publishAsNodes(url, ids, (node) => [
    topics.presence(node),
    encode({ v: 1, node, session: 1, state: 'online', roles: ['bt'], t: Date.now() }),
  ]);

  const readerNode = `race-reader-${process.pid}`;
  const reader = await connectClient(url, { clientId: clientIdForNode(readerNode) });
  const markerTopic = method === 'sync' ? topics.sync(readerNode) : `race/marker/${process.pid}`;
  if (method === 'sync') {
    await reader.publishAsync(markerTopic, encode(createSyncRecord(readerNode, Date.now())), { qos: 1, retain: true });
  } else {
    await reader.subscribeAsync(markerTopic, { qos: 1 });
  }
  let subacked = false;
  let marked = false;
  let subackAt = 0;
  let markerAt = 0;
  let last = 0;
  let maxGap = 0;
  const result = { beforeSuback: 0, afterSuback: 0, afterMarker: 0 };
  const seen = new Set<string>();
  let resolveAll: () => void = () => {};
  const allSeen = new Promise<void>((resolve) => {
    resolveAll = resolve;
  });
  let resolveMarker: () => void = () => {};
  const markerSeen = new Promise<void>((resolve) => {
    resolveMarker = resolve;
  });
  reader.on('message', (topic, _payload, packet) => {
    const now = performance.now();
    if (topic === markerTopic && (method !== 'sync' || packet.retain)) {
      marked = true;
      markerAt = now;
      resolveMarker();
      return;
    }
    if (!packet.retain || !topic.startsWith(`${topics.root}/presence/race-`)) return;
    seen.add(topic);
    if (!subacked) result.beforeSuback++;
    else {
      result.afterSuback++;
      if (last > 0) maxGap = Math.max(maxGap, now - last);
      last = now;
    }
    if (marked) result.afterMarker++;
    if (seen.size === records) resolveAll();
  });
  if (method === 'sync') {
    await reader.subscribeAsync(rosterBarrierSubscription(topics, readerNode));
  } else {
    await reader.subscribeAsync(topics.presenceFilter, { qos: 1 });
  }
  subacked = true;
  subackAt = performance.now();
  last = subackAt;
  if (method !== 'sync') reader.publish(markerTopic, 'm', { qos: method === 'marker1' ? 1 : 0 });
  await Promise.all([allSeen, markerSeen]);
  // Clean up the retained records so repeated runs start from the same state.
  await publishAsNodes(url, ids, (node) => [topics.presence(node), Buffer.alloc(0)]);
  if (method === 'sync') await reader.publishAsync(markerTopic, Buffer.alloc(0), { qos: 1, retain: true });
  await reader.endAsync();
  return {
    records,
    ...result,
    tailAfterSubackMs: result.afterSuback > 0 ? round(last - subackAt) : 0,
    maxGapMs: round(maxGap),
    markerRoundTripMs: round(markerAt - subackAt),
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** Connections open at once while publishing as many nodes. */
const NODE_CONNECTIONS_AT_ONCE = 32;

/** One retained QoS 1 record per node, each over a connection `dameso.{node}`, a few at a time. */
export async function publishAsNodes(
  url: string,
  nodes: readonly string[],
  record: (node: string) => [topic: string, payload: Buffer],
): Promise<void> {
  for (let i = 0; i < nodes.length; i += NODE_CONNECTIONS_AT_ONCE) {
    await Promise.all(
      nodes.slice(i, i + NODE_CONNECTIONS_AT_ONCE).map(async (node) => {
        const client = await connectClient(url, { clientId: clientIdForNode(node) });
        const [topic, payload] = record(node);
        await client.publishAsync(topic, payload, { qos: 1, retain: true });
        await client.endAsync();
      }),
    );
  }
}

/**
 * The roster barrier: how a node knows it holds the whole retained roster before it declares.
 *
 * MQTT 3.1.1 has no end-of-retained marker, and retained records are sent AFTER the SUBACK. A
 * marker published to oneself right after SUBACK is overtaken by retained records (QoS 0 on Aedes
 * and Mosquitto, whose QoS 1 in-flight window lets QoS 0 jump the queue; QoS 1 on Aedes), and a
 * "quiet period" would have to be long and is still a guess; the barrier below was never
 * overtaken (`npx tsx test/interop/retained-race.ts 500 5`; figures: docs/design-notes.md
 * "Intents and the wire").
 *
 * Barrier: (1) publish a retained sync record `{v:1, node, nonce, t}` to `R/sync/{node}` at QoS 1
 * and wait for its PUBACK; (2) send ONE SUBSCRIBE whose LAST filter is `R/sync/{node}`, after
 * `R/presence/+` (rosterBarrierSubscription below, key order is packet order in mqtt.js); (3) the
 * roster is complete when the STORED copy (retain flag set) of the sync record with your nonce
 * arrives; a live copy does not count, because a broker may acknowledge the QoS 1 publish before
 * storing and fanning it out (Aedes 1.2 does, and over Redis the live copy came back after the
 * SUBSCRIBE but ahead of the stored presence records): brokers send the retained
 * records of one SUBSCRIBE filter by filter, in order (Aedes with aedes-persistence streams
 * `createRetainedStreamCombi(filters)` one filter after the other, through one ordered pipe; Mosquitto
 * queues them per filter behind its QoS 1 window); (4) clear the record (empty retained payload).
 * Redo it after every reconnect (clean session). aedes-persistence-redis sends exact-topic filters
 * before wildcards, so broker/cluster.ts streams the stored records one filter after the other
 * (test/interop/redis-cluster.test.ts). Keep a fallback
 * deadline anyway: a broker whose retained store does not keep filter order may deliver the sync
 * record early; a late presence record is then handled like any live one.
 */
import { ulid } from 'ulid';
import { PRESENCE_QOS, SYNC_QOS } from './constants.js';
import type { Topics } from './topics.js';
import type { SyncEnvelope } from './types.js';

/** The subscription of step (2): presence first, the node's own sync record last. */
export function rosterBarrierSubscription(topics: Topics, node: string): Record<string, { qos: 0 | 1 }> {
  return { [topics.presenceFilter]: { qos: PRESENCE_QOS }, [topics.sync(node)]: { qos: SYNC_QOS } };
}

/** The sync record of step (1). `t` is the sender's wall clock (informational only). */
export function createSyncRecord(node: string, t: number, nonce: string = ulid()): SyncEnvelope {
  return { v: 1, node, nonce, t };
}

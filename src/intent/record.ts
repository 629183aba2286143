/**
 * The series form of an outcome: compact (node ids, reasons, latencies), never the data blobs.
 */
import type { EntryInput } from '../series/types.js';
import type { Outcome, ReceivedReply } from './types.js';

export interface OutcomeReplyRecord {
  node: string;
  /** Latency on the declaring node's monotonic clock, ms (rounded to 0.01). */
  ms: number;
  reason?: string;
  /** Present (true) when the replier was not expected. */
  x?: true;
}

function replyRecord(r: ReceivedReply): OutcomeReplyRecord {
  const rec: OutcomeReplyRecord = { node: r.envelope.from, ms: Math.round(r.latencyMs * 100) / 100 };
  if (r.envelope.reason !== undefined) rec.reason = r.envelope.reason;
  if (r.unexpected) rec.x = true;
  return rec;
}

export function compactOutcome(o: Outcome): EntryInput {
  return {
    event: 'intent_outcome',
    id: o.id,
    kind: o.kind,
    ...(o.subject !== undefined ? { subject: o.subject } : {}),
    expected: o.expected,
    yes: o.yes.map(replyRecord),
    no: o.no.map(replyRecord),
    offline: o.offline,
    silence: o.silence,
    closedBy: o.closedBy,
    ms: Math.round(o.elapsedMs * 100) / 100,
  };
}

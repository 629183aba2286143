/**
 * The series form of an outcome: compact (node ids, reasons, latencies), never the data blobs.
 */
import { roundTo } from '../round-to.js';
import type { EntryInput } from '../series/index.js';
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
  const rec: OutcomeReplyRecord = { node: r.envelope.from, ms: roundTo(r.latencyMs) };
  if (r.envelope.reason !== undefined) rec.reason = r.envelope.reason;
  if (r.unexpected) rec.x = true;
  return rec;
}

export function compactOutcome(outcome: Outcome): EntryInput {
  // Key order is the record's (subject after kind when present); built in place, not by spreads.
  const entry: EntryInput = { event: 'intent_outcome', id: outcome.id, kind: outcome.kind };
  if (outcome.subject !== undefined) entry.subject = outcome.subject;
  entry.expected = outcome.expected;
  entry.yes = outcome.yes.map(replyRecord);
  entry.no = outcome.no.map(replyRecord);
  entry.offline = outcome.offline;
  entry.silence = outcome.silence;
  entry.closedBy = outcome.closedBy;
  entry.ms = roundTo(outcome.elapsedMs);
  return entry;
}

/**
 * Intent ids: monotonic ULIDs (docs/protocol.md §5.2) from `ulid`'s monotonic factory, so ids
 * made within one millisecond (or after the wall clock stepped back) still sort in the order they
 * were made. A hand-written generator was measured against it and saved too little of a
 * declaration's time to keep (docs/design-notes.md).
 */
import { monotonicFactory } from 'ulid';

const nextUlid = monotonicFactory();

/** A monotonic ULID for wall time `nowMs`. */
export function nextIntentId(nowMs: number): string {
  return nextUlid(Math.max(0, Math.floor(nowMs)));
}

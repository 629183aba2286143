/**
 * Answer behaviours for fleet tests: a node that is online but never answers (`silent`: every
 * intent it serves is silence, its limiters never consulted) or one that answers only after a delay
 * (`slow`: near the requester's deadline; an answer ready after the deadline is not sent, as any).
 * They wrap the node's handlers, so the rest of the answer path (gate, decision entries, replies)
 * is the real one.
 */
import type { Clock } from '../clock.js';
import type { Answer, IntentHandler, ReceivedIntent } from './types.js';

export type AnswerBehaviour = { mode: 'silent' } | { mode: 'slow'; delayMs: number };

/** The handlers as `behaviour` makes them answer (unchanged without one). */
export function withAnswerBehaviour(
  handlers: readonly IntentHandler[],
  behaviour: AnswerBehaviour | undefined,
  clock: Clock,
): IntentHandler[] {
  if (behaviour === undefined) return [...handlers];
  if (behaviour.mode === 'silent') return handlers.map(silenced);
  const { delayMs } = behaviour;
  if (!(delayMs >= 0)) throw new RangeError(`answer delay must be >= 0 ms, got ${delayMs}`);
  return handlers.map((h) => delayed(h, delayMs, clock));
}

/** Never relevant: silence without consulting the gate, like a node that does not hold the thing. */
function silenced(h: IntentHandler): IntentHandler {
  return { kind: h.kind, role: h.role, relevant: () => false, handle: () => ({ r: 'silence', why: 'silent' }) };
}

function delayed(h: IntentHandler, delayMs: number, clock: Clock): IntentHandler {
  const out: IntentHandler = {
    kind: h.kind,
    role: h.role,
    handle: async (intent: ReceivedIntent): Promise<Answer> => {
      // Waits from receipt, so the handler's own time is included in the delay.
      const left = delayMs - (clock.monotonic() - intent.receivedAt);
      if (left > 0) await new Promise<void>((resolve) => clock.setTimeout(resolve, left));
      return h.handle(intent);
    },
  };
  const relevant = h.relevant;
  if (relevant !== undefined) out.relevant = (intent) => relevant.call(h, intent);
  return out;
}

/**
 * Intents: the declare side (expected set, fan-out, collect, close, outcome in the series) and the
 * answer side (gate → handler → reply, decisions in the series). Contract types in `types.ts`.
 */
import { IntentService, type Intents, type IntentsDeps } from './intents.js';

export type { AnswerStats } from './answer.js';
export { type AnswerBehaviour, withAnswerBehaviour } from './answer-behaviour.js';
export * from './constants.js';
export type { DeclareStats } from './declare.js';
export * from './errors.js';
export { alwaysYesGate, NEUTRAL_LIM } from './gate.js';
export type { Intents, IntentsDeps, IntentsStats } from './intents.js';
export { compactOutcome } from './record.js';
export * from './types.js';

export interface StartableIntents extends Intents {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createIntents(deps: IntentsDeps): StartableIntents {
  return new IntentService(deps);
}

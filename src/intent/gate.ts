/**
 * The default gate used until a real limiter gate is passed in: always YES, neutral values (1 =
 * plenty). It exists so the answer side has one code path whether limiters are wired or not.
 */
import type { LimiterValues } from '../protocol/index.js';
import type { Gate, GateDecision } from './types.js';

export const NEUTRAL_LIM: LimiterValues = {
  economic: 1,
  cpu: 1,
  memory: 1,
  w_tracking: 1,
  objective: 1,
  topology: 1,
};

const YES: GateDecision = { answer: { r: 'yes' }, lim: NEUTRAL_LIM, tight: false };

export const alwaysYesGate: Gate = {
  intentSeen() {},
  decide: () => YES,
};

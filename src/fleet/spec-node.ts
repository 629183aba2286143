/**
 * A NodeSpec as the node it describes: `assembleNode` options for a node hosted in a worker, or
 * `dameso node` arguments for one process per node. Both give the node `dameso node` would run
 * with the same settings.
 */
import { DEFAULT_REPLICATE } from '../chunks/index.js';
import type { AssembleOptions } from '../node/index.js';
import { DEFAULT_MIN_RESPONDERS, DEFAULT_SURVEY_EVERY_S } from '../observe/index.js';
import type { NodeSpec } from './spec.js';

/** What every node of a fleet shares: the broker and its credentials. */
export interface NodeCommon {
  broker: string;
  /** Node id → password (a broker with an auth file). */
  password?: string;
  /** PEM CA an `mqtts://` broker is verified against. */
  ca?: string;
  /** The fleet's topic prefix; default `dameso`. */
  topicPrefix?: string;
}

const surveyOf = (s: NodeSpec): AssembleOptions['survey'] => ({
  surveyEveryS: s.surveyEveryS ?? DEFAULT_SURVEY_EVERY_S,
  survey: s.survey ?? [],
  minResponders: s.minResponders ?? DEFAULT_MIN_RESPONDERS,
});

/** The behaviour's answer hook (`silent`, `slow`); liars and copiers differ by their sensor only. */
function answerBehaviourOf(s: NodeSpec): Pick<AssembleOptions, 'answerBehaviour'> {
  if (s.behaviour === 'silent') return { answerBehaviour: { mode: 'silent' } };
  if (s.behaviour === 'slow') return { answerBehaviour: { mode: 'slow', delayMs: s.answerDelayMs ?? 0 } };
  return {};
}

export function assembleOptionsOf(s: NodeSpec, c: NodeCommon): AssembleOptions {
  return {
    id: s.id,
    roles: s.roles,
    dataDir: s.dataDir,
    broker: c.broker,
    replicate: s.replicate ?? DEFAULT_REPLICATE,
    survey: surveyOf(s),
    ...(s.position ? { position: s.position } : {}),
    ...(s.simulate ? { simulate: [s.simulate] } : {}),
    ...(s.storageBudgetBytes !== undefined ? { storageBudgetBytes: s.storageBudgetBytes } : {}),
    ...(c.password !== undefined ? { brokerPassword: c.password } : {}),
    ...(c.ca !== undefined ? { brokerCa: c.ca } : {}),
    ...(c.topicPrefix !== undefined ? { topicPrefix: c.topicPrefix } : {}),
    ...answerBehaviourOf(s),
  };
}

/** `dameso node …` for the spec; `files` are the password and CA files of the broker (when it wants them), and its prefix. */
export function nodeArgsOf(
  s: NodeSpec,
  broker: string,
  files: { passwordFile?: string; ca?: string; prefix?: string } = {},
): string[] {
  const args = ['node', '--id', s.id, '--roles', s.roles.join(','), '--broker', broker, '--data', s.dataDir];
  args.push('--log-level', 'warn', '--replicate', String(s.replicate ?? DEFAULT_REPLICATE));
  const survey = surveyOf(s);
  args.push('--survey-every', String(survey.surveyEveryS), '--min-responders', String(survey.minResponders));
  if (survey.survey.length > 0) args.push('--survey', survey.survey.join(','));
  if (s.position) args.push('--position', `${s.position.lat},${s.position.lon}`);
  if (s.simulate) {
    const m = s.simulate;
    args.push('--simulate', `${m.metric},bias=${m.bias},noise=${m.noiseSigma},seed=${m.seed}`);
  }
  if (s.behaviour === 'silent') args.push('--silent');
  if (s.behaviour === 'slow') args.push('--answer-delay', String(s.answerDelayMs ?? 0));
  if (files.passwordFile !== undefined) args.push('--password-file', files.passwordFile);
  if (files.ca !== undefined) args.push('--ca', files.ca);
  if (files.prefix !== undefined) args.push('--prefix', files.prefix);
  return args;
}

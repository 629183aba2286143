/**
 * The testing-aid flags of `dameso node` that make a node misbehave on purpose, so that a fleet run
 * one process per node can host the same faulty nodes as one hosting many: `--silent` (online, never
 * answers) and `--answer-delay MS` (every answer held back MS from receipt: a slow node). A liar is
 * `--simulate METRIC,bias=N`; a copier repeats a liar with the same `seed=N`, bias and position.
 */
import type { Command } from 'commander';
import { DamesoError } from '../errors.js';
import type { AnswerBehaviour } from '../intent/index.js';

export interface BehaviourFlags {
  silent?: boolean;
  answerDelay?: string;
}

/** The node's answer behaviour from the flags; undefined for an honest node. */
export function answerBehaviourOf(f: BehaviourFlags): AnswerBehaviour | undefined {
  if (f.silent && f.answerDelay !== undefined) {
    throw new DamesoError('DAMESO_USAGE', '--silent and --answer-delay: a silent node never answers, give one of them');
  }
  if (f.silent) return { mode: 'silent' };
  if (f.answerDelay === undefined) return undefined;
  const ms = Number(f.answerDelay);
  if (f.answerDelay.trim() === '' || !Number.isFinite(ms) || ms < 0) {
    throw new DamesoError(
      'DAMESO_USAGE',
      `--answer-delay: expected milliseconds >= 0, e.g. 800, got "${f.answerDelay}"`,
    );
  }
  return { mode: 'slow', delayMs: ms };
}

/** `, silent (testing aid)` / `, answers after 800 ms (testing aid)` for the start line. */
export function behaviourLine(b: AnswerBehaviour | undefined): string {
  if (b === undefined) return '';
  return b.mode === 'silent' ? ', silent (testing aid)' : `, answers after ${b.delayMs} ms (testing aid)`;
}

export const BEHAVIOUR_HELP = `
Testing aids (for fleet tests; never on a real site):
  --silent             online, announced, never answers anything (requesters see silence)
  --answer-delay MS    every answer held back MS from receipt (a slow node; past the deadline it is not sent)
  dameso node --id sil-1 --roles bt --silent --broker mqtt://127.0.0.1:1883
  dameso node --id slow-1 --roles bt --answer-delay 800 --broker mqtt://127.0.0.1:1883
  dameso node --id liar-1 --position 48.8566,2.3522 --simulate temp,bias=8,seed=42   (a liar)
  dameso node --id copy-1 --position 48.8566,2.3522 --simulate temp,bias=8,seed=42   (its copier)
`;

export function addBehaviourFlags(cmd: Command): Command {
  return cmd
    .option('--silent', 'testing aid: online but never answers (see "Testing aids")')
    .option('--answer-delay <ms>', 'testing aid: hold every answer back MS from receipt; e.g. --answer-delay 800');
}

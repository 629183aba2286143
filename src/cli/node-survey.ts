/**
 * The survey flags of `dameso node`: `--survey-every S` (config `surveyEveryS`), `--survey CELLS`
 * (`survey`) and `--min-responders N` (`minResponders`), their parsers (one `[DAMESO_USAGE]` line,
 * exit 64, on a bad value; the config file runs the same parsers) and their help.
 */
import type { Command } from 'commander';
import { DamesoError } from '../errors.js';
import {
  DEFAULT_MIN_RESPONDERS,
  DEFAULT_SURVEY_EVERY_S,
  isCell,
  MAX_SURVEY_CELLS_PER_ROUND,
  SURVEY_JITTER_SHARE,
} from '../observe/index.js';

/** Most cells or prefixes `--survey` takes (each is asked about in turn, a round at a time), count. */
export const MAX_SURVEY_FLAG_CELLS = 256;

export interface SurveyFlags {
  surveyEvery: string;
  survey?: string;
  minResponders: string;
}

const usage = (flag: string, msg: string): DamesoError => new DamesoError('DAMESO_USAGE', `${flag}: ${msg}`);

/** Seconds between survey rounds: a number >= 0 (0 = off). */
export function parseSurveyEvery(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw usage('--survey-every', `expected seconds >= 0 (0 = off), e.g. --survey-every 60, got "${v}"`);
  }
  return n;
}

/** `u09tv,u09tw` → geohash cells or prefixes. */
export function parseSurveyCells(v: string | undefined): string[] {
  const cells = (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = cells.find((c) => !isCell(c));
  if (bad !== undefined) {
    throw usage('--survey', `"${bad}" is not a geohash cell or prefix (1-12 chars of 0-9 b-h j k m n p-z)`);
  }
  if (cells.length > MAX_SURVEY_FLAG_CELLS) {
    throw usage('--survey', `at most ${MAX_SURVEY_FLAG_CELLS} cells or prefixes, got ${cells.length}`);
  }
  return [...new Set(cells)];
}

/** Fewest responders a consensus is trusted with: a whole number >= 1. */
export function parseMinResponders(v: string): number {
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || !Number.isInteger(n) || n < 1) {
    throw usage('--min-responders', `expected a whole number >= 1, e.g. --min-responders 3, got "${v}"`);
  }
  return n;
}

/** The observe service's survey options from the flags. */
export function surveyOptions(f: SurveyFlags): { surveyEveryS: number; survey: string[]; minResponders: number } {
  return {
    surveyEveryS: parseSurveyEvery(f.surveyEvery),
    survey: parseSurveyCells(f.survey),
    minResponders: parseMinResponders(f.minResponders),
  };
}

/** Adds the three flags to `dameso node`. */
export function addSurveyFlags(cmd: Command): Command {
  const jitter = Math.round(SURVEY_JITTER_SHARE * 100);
  return cmd
    .option(
      '--survey-every <s>',
      `a mapper asks want_observations for the cells it observed in (and --survey's) every S seconds, ` +
        `±${jitter} % jitter, and writes the consensus; 0 = off; e.g. --survey-every 300`,
      String(DEFAULT_SURVEY_EVERY_S),
    )
    .option(
      '--survey <cells>',
      'geohash cells or prefixes a survey round also asks about, comma-separated; e.g. --survey u09tv,u09tw',
    )
    .option(
      '--min-responders <n>',
      'a consensus from fewer responders is written and shown as low confidence; e.g. --min-responders 5',
      String(DEFAULT_MIN_RESPONDERS),
    );
}

const lo = 1 - SURVEY_JITTER_SHARE;
const hi = 1 + SURVEY_JITTER_SHARE;

export const SURVEY_HELP = `
Surveys (a mapper node, or one given --survey): every --survey-every S seconds (default ${DEFAULT_SURVEY_EVERY_S}; each
wait drawn uniformly in [${lo}·S, ${hi}·S]) it declares want_observations for the cells it observed in
since its last survey plus the --survey cells, at most ${MAX_SURVEY_CELLS_PER_ROUND} a round (the longest unsurveyed first),
writes the consensus per cell and metric and one "survey" entry; a round is skipped while the node
is busy. A cell with fewer than --min-responders (default ${DEFAULT_MIN_RESPONDERS}) responders is marked low confidence.
  dameso node --id roof --position 48.8566,2.3522 --simulate temp --survey-every 120
  dameso node --id hub --roles mapper --survey u09tv,u09tw --min-responders 5
  dameso node --id quiet --position 48.8566,2.3522 --sensor /dev/ttyUSB0 --survey-every 0
`;

/** Fleet scenario defaults. Units are in the names. */
import type { ScenarioOptions } from './spec.js';

/** The metric every simulated mapper reads. */
export const SCENARIO_METRIC = 'temp';
/** Where the synthetic field's cells are drawn around, decimal degrees. */
export const FIELD_ORIGIN = { lat: 48.8566, lon: 2.3522 } as const;
/** Side of the square the cells are drawn in, degrees (several wavelengths of the field). */
export const FIELD_SPAN_DEG = 0.05;
/** Draws before giving up on finding distinct cells (the span holds far more cells than that). */
export const MAX_CELL_DRAWS = 100_000;
/** Share of the fleet behind the stall proxy when `stallNodes` is not given. */
export const STALL_DEFAULT_SHARE = 0.1;
/**
 * Mappers per cell when the cells are not given, count: enough for a surveyor to judge reputations
 * (it needs `DEFAULT_AGREE_MIN_RESPONDERS` other responders) with a liar or a silent node among them.
 */
export const MAPPERS_PER_CELL = 8;

/** Every scenario setting's default (`nodes` has none: the caller says how many). */
export const DEFAULT_SCENARIO: Omit<ScenarioOptions, 'nodes'> = {
  fieldSeed: 1,
  liars: 0,
  copiers: 0,
  liarBiasUnits: 8,
  noiseSigmaUnits: 1,
  silent: 0,
  slow: 0,
  slowDelayMs: 800,
  surveyEveryS: 5,
  minResponders: 3,
  replicate: 2,
  diskFull: 0,
  diskBudgetBytes: 64 * 1024,
  killEveryS: 0,
  brokerRestartEveryS: 0,
  stallEveryS: 0,
  stallForS: 3,
  reputationRounds: 3,
  truthToleranceUnits: 1,
  seed: 1,
};

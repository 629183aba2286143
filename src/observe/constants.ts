/** Observation, reputation and consensus defaults. Units are in the names. */

/** Geohash precision of an observation's cell, characters. 7 ≈ 153 m × 153 m cells. */
export const DEFAULT_CELL_PRECISION = 7;
/** A GPS fix older than this (local monotonic ms) is not joined with a reading. */
export const DEFAULT_MAX_FIX_AGE_MS = 5_000;
/** Most observations one node returns for one `want_observations` (newest first), count. */
export const MAX_OBSERVATIONS_PER_ANSWER = 64;
/** Most observations kept per cell in the cell index view, count. */
export const MAX_INDEX_PER_CELL = 64;
/** Most cells kept in the cell index view (least recently observed dropped), count. */
export const MAX_INDEX_CELLS = 4_096;
/** Most entries scanned by one `want_observations` answer when no index is registered, count. */
export const MAX_SCAN_ENTRIES = 20_000;
/** Deadline of a `want_observations` intent, ms. */
export const DEFAULT_OBSERVE_DEADLINE_MS = 2_000;

/** Default consensus method: the robust reputation-weighted median. */
export const DEFAULT_CONSENSUS_METHOD = 'median' as const;
/** Largest share of the total weight any one responder may hold, in (0,1]; raised to 1/n when n is small. */
export const DEFAULT_MAX_WEIGHT_SHARE = 0.2;
/** MAD × this estimates the standard deviation of normal data (1 / Φ⁻¹(3/4)). */
export const MAD_TO_SD = 1.4826;

/** A value agrees with consensus when |v − c| ≤ k · spread (or ≤ the tolerance floor), k. */
export const DEFAULT_AGREE_K = 3;
/**
 * Fewest responders for a consensus to judge agreement, count. With fewer, a robust spread is not
 * estimable (three honest values can have a MAD near 0), so no one is judged either way.
 */
export const DEFAULT_AGREE_MIN_RESPONDERS = 5;
/** Absolute floor of the agreement band, metric unit (spread can be 0 when most values are equal). */
export const DEFAULT_AGREE_FLOOR = 1e-6;
/**
 * Standard error of the median of n normal readings ≈ this × sd / √n (√(π/2)): how far a
 * responder's own value may sit from the truth through sampling alone, metric unit per sd.
 */
export const MEDIAN_SE_PER_SD = Math.sqrt(Math.PI / 2);

/** Reputation evidence weights (positive / (positive + negative), 0.5 with none). */
export const REP_AGREE_WEIGHT = 1;
export const REP_DISAGREE_WEIGHT = 1;
/** Delivered data that was verified (a chunk whose hash matched). */
export const REP_VERIFIED_WEIGHT = 1;
/** A chunk whose bytes did not match its id (`chunk_rejected`, reason `hash_mismatch`): the strongest. */
export const REP_HASH_MISMATCH_WEIGHT = 5;
/** A chunk rejected for any other reason (malformed bytes), or a YES to want_observations with malformed data. */
export const REP_MALFORMED_WEIGHT = 2;
/** Silence while online (expected, neither answered nor went offline): mild. */
export const REP_SILENCE_WEIGHT = 0.1;
/** Reputation of a node with no evidence. */
export const REP_PRIOR = 0.5;
/** Most nodes the reputation view tracks (least evidence dropped first), count. */
export const MAX_REPUTATION_NODES = 4_096;

/** Fewest YES responders for a cell's consensus to be trusted; fewer is written `low_confidence`, count. */
export const DEFAULT_MIN_RESPONDERS = 3;
/** Seconds between two survey rounds of a mapper node (`dameso node --survey-every`; 0 = off), s. */
export const DEFAULT_SURVEY_EVERY_S = 60;
/** Each wait between survey rounds is uniform in [1 − j, 1 + j] × the period, so a fleet started together spreads out. */
export const SURVEY_JITTER_SHARE = 0.2;
/** Most cells (or configured prefixes) one survey round asks about, oldest-unsurveyed first, count. */
export const MAX_SURVEY_CELLS_PER_ROUND = 16;
/** Most cells the survey view remembers as observed-but-not-surveyed, and as last surveyed, count each. */
export const MAX_SURVEY_TRACKED_CELLS = 4_096;

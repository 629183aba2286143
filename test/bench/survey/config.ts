/**
 * The knobs and fixed inputs of `npm run bench:survey`. Rounds are per arm and per size; every
 * count scales with BENCH_ROUNDS_SCALE (0.5 halves the run, 2 doubles it).
 */
import { cellCentre, cellOf } from '../../../src/observe/index.js';

const SCALE = Number(process.env.BENCH_ROUNDS_SCALE ?? 1);
const scaled = (n: number) => Math.max(1, Math.round(n * SCALE));

export const SIZES = (process.env.BENCH_SIZES ?? '10,50,100').split(',').map(Number);
/**
 * `BENCH_GATE=limiters`: the nodes' own limiters decide (a loaded host turns into NO cpu_busy, and
 * a round with fewer YES does less work). Default: always YES, decisions still recorded.
 */
export const GATE_LIMITERS = process.env.BENCH_GATE === 'limiters';
export const DURABILITY = (process.env.BENCH_DURABILITY ?? 'batch') as 'batch' | 'none' | 'always';

/** The one cell every responder observes and every round asks for. */
export const CELL = cellOf(48.2, 16.37, 7);
export const CELL_CENTRE = cellCentre(CELL);
/** Readings each responder holds in the cell before the rounds (its YES carries them all). */
export const READINGS_PER_RESPONDER = 5;

/** Survey rounds per arm (raw, dameso) and size, after the warm-up; in BLOCKS alternating blocks. */
const SURVEY_ROUNDS: Record<number, number> = { 10: 600, 50: 400, 100: 300 };
export const surveyRounds = (n: number) => scaled(SURVEY_ROUNDS[n] ?? 300);
export const WARMUP_ROUNDS = 30;
export const BLOCKS = 10;
/** Round deadline, ms: far above a round here, so a round closes when every responder answered. */
export const SURVEY_DEADLINE_MS = 5000;

/** Backup arms: responders, the time each block runs rounds back to back, blocks per arm. */
export const BACKUP_RESPONDERS = Number(process.env.BENCH_BACKUP_RESPONDERS ?? 10);
export const BACKUP_BLOCK_MS = scaled(3000);
export const BACKUP_BLOCKS = 8;
/** Each responder's sensor reading interval during the backup arms (both arms: entries keep coming). */
export const BACKUP_SAMPLE_MS = 1000;
/**
 * How often each `on` node backs up, ms: the backup's round period (its default is 3 s and full
 * chunks only; here every round also pushes the tail, so each round does work), or the stand-in's.
 */
export const BACKUP_EVERY_MS = 1000;
export const BACKUP_REPLICAS = 3;

/** Whole run bound: past this the bench fails rather than hang. */
export const WATCHDOG_MS = 15 * 60_000;

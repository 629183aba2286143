/**
 * The knobs and fixed inputs of `npm run bench:intents`, shared by the bench process and its child
 * processes (children inherit the environment, so they read the same knobs).
 */
import { loadBoard } from '../../../devices/boards/index.js';

/** `one` (default): broker, requester and responders in this process. `procs`: one process each. */
export const LAYOUT: 'one' | 'procs' = process.env.BENCH_LAYOUT === 'procs' ? 'procs' : 'one';
export const SIZES = (process.env.BENCH_SIZES ?? '1,10,100').split(',').map(Number);
export const GATE_OFF = process.env.BENCH_GATE === 'off';
export const DURABILITY = (process.env.BENCH_DURABILITY ?? 'batch') as 'batch' | 'none' | 'always';
/** Group-commit window, ms; default: the board's (`generic`: 10 ms). */
export const BATCH_MS = process.env.BENCH_BATCH_MS === undefined ? undefined : Number(process.env.BENCH_BATCH_MS);
/** The payload every responder answers with, on both sides. */
export const DATA = Buffer.alloc(64, 7);

/**
 * The bench board: `generic` with its intent capacity raised out of reach. The bench measures what
 * the protocol costs (the limiters still sample and decide on every intent, and every decision is
 * written); at generic's 3000 intents per 10 s, a 1-responder run would answer mostly NO
 * rate_limited, which is `npm run bench:limiters`'s subject, not this one's.
 */
export const BENCH_BOARD = (() => {
  const generic = loadBoard('generic');
  return { ...generic, board: 'generic-bench', intents: { ...generic.intents, capacityPerWindow: 10_000_000 } };
})();

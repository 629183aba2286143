/**
 * The entry of a fleet worker process (started by workers.ts with an IPC channel). As child.ts for
 * a node process: when the harness goes away (its channel closes, even after a SIGKILL) the worker
 * stops its nodes and exits, so no node outlives the fleet.
 */
import { runWorker } from './worker.js';

/** After the harness went away: a clean stop gets this long before the worker just exits, ms. */
const FORCED_EXIT_MS = 5_000;

if (!process.send) throw new Error('fleet/worker-main runs under `dameso fleet` (needs an IPC channel)');
const stopAndExit = runWorker();
const onGone = (): void => {
  stopAndExit();
  setTimeout(() => process.exit(1), FORCED_EXIT_MS).unref();
};
process.on('disconnect', onGone);
process.on('SIGTERM', onGone);
// A terminal's Ctrl-C reaches the harness, which stops the workers in order.
process.on('SIGINT', () => undefined);

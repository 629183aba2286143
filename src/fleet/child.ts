/**
 * How the fleet starts a `dameso` command in a child process: this file, then the command's own
 * arguments (`node --id …`, `broker --port 0 …`). It runs the real CLI (src/cli/main.ts) unchanged,
 * plus one guard: when the harness goes away (its IPC channel closes, even after a SIGKILL) the
 * child stops itself, cleanly first (SIGTERM to itself), so no node outlives the fleet.
 */
const FORCED_EXIT_MS = 5_000;

if (!process.send) throw new Error('fleet/child runs under `dameso fleet` (needs an IPC channel)');
const stopSelf = (): void => {
  process.kill(process.pid, 'SIGTERM');
  setTimeout(() => process.exit(1), FORCED_EXIT_MS).unref();
};
process.on('disconnect', stopSelf);
// The channel must not keep the process alive once the command has finished.
process.channel?.unref();
// The harness may have gone while this module was still loading.
if (!process.connected) stopSelf();
else await import('../cli/main.js');

/**
 * A closed stdout (`dameso series export … | head`) ends the command quietly with exit 0, as
 * `cat` or `grep` do, instead of an unhandled EPIPE. A long-running command (node, field, tap)
 * waits for SIGINT/SIGTERM: it is stopped as on SIGTERM, so its series is flushed and its
 * presence set offline; a short one exits at once (what it wrote is already on disk or gone to
 * the reader that left).
 */
export function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream = process.stdout): void {
  let closed = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (closed) return; // later writes to the destroyed stream fail the same way
    if (err.code !== 'EPIPE') throw err;
    closed = true;
    process.exitCode = 0;
    if (process.listenerCount('SIGTERM') > 0) process.emit('SIGTERM', 'SIGTERM');
    else process.exit(0);
  });
}

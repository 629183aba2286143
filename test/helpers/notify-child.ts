/**
 * A process that sends READY=1 and watchdog pings through the real notifier (NOTIFY_SOCKET and
 * WATCHDOG_USEC from its environment), and blocks its event loop for good when it reads `block`
 * on stdin: the pings must stop.
 */
import { writeSync } from 'node:fs';
import { systemClock } from '../../src/clock.js';
import { silentLogger } from '../../src/log.js';
import { createSystemdNotifier } from '../../src/supervise/index.js';

const notifier = createSystemdNotifier({ clock: systemClock, log: silentLogger });
notifier.startWatchdog();
notifier.ready('test child');
setInterval(() => {}, 2 ** 30);
process.stdin.on('data', (d: Buffer) => {
  if (!d.toString().includes('block')) return;
  writeSync(1, 'blocked\n');
  // A hung event loop: no timer runs again.
  for (;;) {}
});

/**
 * A bt storage node in its own process, for tests that SIGKILL a holder.
 * argv: BROKER_URL NODE_ID DATA_DIR. Prints `ready` on stdout once started; SIGTERM stops it cleanly.
 */
import { createChunksService } from '../../src/chunks/index.js';
import { alwaysYesGate } from '../../src/intent/index.js';
import { silentLogger } from '../../src/log.js';
import { createNode } from '../../src/node.js';

const [url, id, dataDir] = process.argv.slice(2);
if (!url || !id || !dataDir) throw new Error('usage: chunks-node-child BROKER_URL NODE_ID DATA_DIR');
// Keep the process alive: the node's own timers are unref'd (the system clock's rule).
setInterval(() => undefined, 1 << 30);
const chunks = createChunksService();
const node = createNode({
  id,
  roles: ['bt'],
  broker: url,
  dataDir,
  services: [chunks],
  // The chunk layer's answers, not the limiters' (a loaded CI box would say cpu_busy at random).
  gate: alwaysYesGate,
  log: silentLogger,
});
await node.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  node.stop().then(() => process.exit(0));
});

/**
 * A real node in a child process, for tests that SIGKILL it (its Will must do the talking).
 * argv: URL ID ANSWER(yes|no|silence) DATADIR. Prints `ready SESSION` on stdout once started.
 */
import type { Answer } from '../../src/intent/types.js';
import { createNode } from '../../src/node.js';

const [url, id, answerName, dataDir] = process.argv.slice(2);
if (!url || !id || !answerName || !dataDir) {
  process.stderr.write('usage: node-child URL ID yes|no|silence DATADIR\n');
  process.exit(64);
}
const answer: Answer =
  answerName === 'yes'
    ? { r: 'yes', data: id }
    : answerName === 'no'
      ? { r: 'no', reason: 'cpu_busy' }
      : { r: 'silence' };
const node = createNode({
  id,
  roles: ['bt'],
  broker: url,
  dataDir,
  rosterQuietMs: 50,
  handlers: [{ kind: 'want_chunk', role: 'bt', handle: () => answer }],
});
await node.start();
process.stdout.write(`ready ${node.transport.session}\n`);
process.on('SIGTERM', () => {
  void node.stop().then(() => process.exit(0));
});

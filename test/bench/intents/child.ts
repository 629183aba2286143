/**
 * One child process of the `procs` layout (see runtime.ts for how it is run):
 *
 *   child broker                  the dameso Aedes host (TCP_NODELAY) on an ephemeral port
 *   child raw URL INDEX           a raw mqtt.js responder
 *   child node URL ID DATADIR     a real dameso node answering want_chunk
 *
 * Tells the parent `{ready, url?}` over IPC once serving. A `stop` message stops it cleanly; losing
 * the IPC channel (the parent exited, even by SIGKILL) ends it at once, so none outlives the bench.
 */
import { createBrokerHost } from '../../../broker/index.js';
import { createBenchNode, startRawResponder } from './responders.js';

export type ChildReady = { ready: true; url?: string };

async function serve(role: string | undefined, args: string[]): Promise<{ url?: string; stop(): Promise<void> }> {
  if (role === 'broker') {
    const host = createBrokerHost({ host: '127.0.0.1', port: 0, maxConnectionsPerIp: 100_000 });
    const { url } = await host.start();
    return { url, stop: () => host.stop() };
  }
  const [url, who, dataDir] = args;
  if (role === 'raw' && url && who) {
    const c = await startRawResponder(url, Number(who));
    return { stop: () => c.endAsync(true) };
  }
  if (role === 'node' && url && who && dataDir) {
    const node = createBenchNode(url, who, ['bt'], dataDir);
    await node.start();
    return { stop: () => node.stop() };
  }
  throw new Error('usage: child broker | raw URL INDEX | node URL ID DATADIR');
}

if (!process.send) throw new Error('child.ts runs under the bench (needs an IPC channel)');
process.on('disconnect', () => process.exit(0));
// The parent may have gone while this module was still loading (its 'disconnect' then had no listener).
if (!process.connected) process.exit(0);
const served = await serve(process.argv[2], process.argv.slice(3));
process.on('message', (m) => {
  if (m === 'stop') void served.stop().finally(() => process.exit(0));
});
process.send({ ready: true, ...(served.url ? { url: served.url } : {}) } satisfies ChildReady);

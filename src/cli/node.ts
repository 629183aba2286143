/**
 * `dameso node`: run one node until SIGINT/SIGTERM (a clean stop publishes offline presence,
 * flushes and closes the series). Serves the chunk (`bt`) and observation (`mapper`) kinds for the
 * roles it is given, gated by its limiters.
 */
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { createChunksService } from '../chunks/index.js';
import { DamesoError } from '../errors.js';
import { createLogger, type LogLevel } from '../log.js';
import { createNode, DEFAULT_BROKER_URL } from '../node.js';
import { createObserveService } from '../observe/index.js';

interface NodeFlags {
  id: string;
  roles: string;
  broker: string;
  data?: string;
  device?: string;
  embeddedPort?: string;
  logLevel: string;
}

/** `a,b` → `['a','b']` (empty items dropped). */
export function splitList(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export function registerNode(program: Command): void {
  program
    .command('node')
    .description(
      'run one dameso node until Ctrl-C: it keeps its series in --data, announces itself (retained ' +
        'presence, Will = offline), answers the intents its roles serve (bt: chunks, mapper: ' +
        'observations) through its limiters, and stops cleanly on SIGINT/SIGTERM',
    )
    .requiredOption('--id <id>', 'node id, [A-Za-z0-9_-]{1,64}')
    .option('--roles <list>', 'roles served, comma-separated (bt, mapper)', '')
    .option('--broker <url>', 'mqtt://host:port, or "embedded" to run a broker in this process', DEFAULT_BROKER_URL)
    .option('--data <dir>', 'data folder (series, chunks); default ~/.dameso/<id>')
    .option('--device <board>', 'board profile for budgets (generic, pi-zero-2w, pi-3b, pi-4b, pi-5)')
    .option('--embedded-port <port>', 'port of the embedded broker (with --broker embedded)', '1883')
    .option('--log-level <level>', 'fatal|error|warn|info|debug', 'info')
    .action(async (flags: NodeFlags) => {
      const port = Number(flags.embeddedPort);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new DamesoError('DAMESO_USAGE', `--embedded-port must be a port number, got "${flags.embeddedPort}"`);
      }
      const dataDir = flags.data ?? path.join(os.homedir(), '.dameso', flags.id);
      const log = createLogger({ level: flags.logLevel as LogLevel });
      const node = createNode({
        id: flags.id,
        roles: splitList(flags.roles),
        broker: flags.broker,
        embeddedPort: port,
        dataDir,
        ...(flags.device !== undefined ? { device: flags.device } : {}),
        services: [createChunksService(), createObserveService()],
        log,
      });
      const signal = untilSignal();
      await node.start();
      process.stdout.write(
        `node ${node.id} online (session ${node.transport.session}, roles ${node.roles.join(',') || '-'}) ` +
          `on ${node.brokerUrl}, data ${dataDir}; Ctrl-C to stop\n`,
      );
      const sig = await signal;
      log.info({ signal: sig }, 'node: stopping');
      await node.stop();
      process.stdout.write(`node ${node.id} stopped\n`);
    });
}

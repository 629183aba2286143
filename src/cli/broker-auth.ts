/**
 * The authentication parts of `dameso broker`: `--auth-file` (load, reload on SIGHUP) and
 * `dameso broker passwd`, which adds or replaces a node's entry in a credentials file.
 */
import type { Command } from 'commander';
import {
  type BrokerAuth,
  type BrokerHost,
  closeRevoked,
  createFileAuth,
  deleteCredential,
  MIN_PASSWORD_CHARS,
  setCredential,
} from '../../broker/index.js';
import { DamesoError } from '../errors.js';
import type { Logger } from '../log.js';
import { NODE_ID_PATTERN } from '../protocol/index.js';
import { checkOutputPath } from './out-file.js';
import { readPasswordFile, readPasswordFromStdin } from './password.js';

export const AUTH_FILE_HELP =
  'require every connection to authenticate: username = node id, password checked against FILE ' +
  '(scrypt hashes written by `dameso broker passwd`), client id dameso.{node}; each node may then ' +
  'publish and subscribe only what a node needs, in its own name. SIGHUP reloads FILE';

/** Loads `file` (ConfigError, exit 78, when it is missing or malformed). */
export function loadBrokerAuth(file: string, log: Logger): Promise<BrokerAuth> {
  return createFileAuth({
    file,
    onLoosePermissions: (mode) =>
      log.warn(
        { file, mode: `0${mode.toString(8)}` },
        'credentials file is readable by other users: chmod 600 it (the hashes can be attacked offline)',
      ),
  });
}

/**
 * Reloads `auth` on every SIGHUP until the returned function is called, then closes the connections
 * of nodes no longer listed; a bad file keeps the old credentials (and says why).
 */
export function reloadOnSighup(
  auth: BrokerAuth,
  host: BrokerHost,
  log: Logger,
  report: (text: string, json: object) => void,
): () => void {
  const onHup = () => {
    auth.reload().then(
      () => {
        const closed = host.broker === undefined ? 0 : closeRevoked(host.broker, auth);
        report(`dameso broker: credentials reloaded (${auth.size()} nodes, ${closed} revoked connections closed)`, {
          event: 'auth_reloaded',
          nodes: auth.size(),
          closed,
        });
      },
      (err: unknown) => log.error({ err }, 'credentials reload failed; the previous credentials stay in force'),
    );
  };
  process.on('SIGHUP', onHup);
  return () => process.off('SIGHUP', onHup);
}

interface PasswdFlags {
  file: string;
  node?: string;
  viewer?: string;
  passwordFile?: string;
  delete?: boolean;
}

export function registerBrokerPasswd(broker: Command): void {
  broker
    .command('passwd')
    .description(
      "add or replace a node's password in a credentials file for `dameso broker --auth-file` (scrypt " +
        'hash with a random salt; the file is rewritten atomically with mode 0600). The password is ' +
        'read from stdin, or from --password-file; never from the command line',
    )
    .requiredOption('--file <file>', 'credentials file (created if missing)')
    .option('--node <id>', 'node id, [A-Za-z0-9_-]{1,64} (its MQTT username)')
    .option(
      '--viewer <name>',
      'instead of --node: a read-only credential for the dashboard (--http-port), [A-Za-z0-9_-]{1,64}; it may only subscribe',
    )
    .option('--password-file <file>', 'read the password from this file instead of stdin')
    .option('--delete', "remove the node's entry (as mosquitto_passwd -D); a running broker drops it at SIGHUP")
    .addHelpText(
      'after',
      `
Examples:
  (umask 077; openssl rand -base64 24 > pi-7.secret)
  dameso broker passwd --file /etc/dameso/broker.users --node pi-7 --password-file pi-7.secret
  pass show dameso/pi-7 | dameso broker passwd --file /etc/dameso/broker.users --node pi-7
  dameso broker passwd --file /etc/dameso/broker.users --node pi-7 --delete
  dameso broker passwd --file /etc/dameso/broker.users --viewer wall < wall.secret   # the dashboard's login
Then on the node: dameso node --id pi-7 --broker mqtt://hub:1883 --password-file pi-7.secret
and reload a running broker: kill -HUP <broker pid>.`,
    )
    .action(async (flags: PasswdFlags) => {
      const { name, flag } = passwdName(flags);
      if (!NODE_ID_PATTERN.test(name)) {
        throw new DamesoError('DAMESO_USAGE', `${flag} must match [A-Za-z0-9_-]{1,64}, got "${name.slice(0, 64)}"`);
      }
      await checkOutputPath('--file', flags.file);
      if (flags.delete) {
        if (!(await deleteCredential(flags.file, name))) {
          throw new DamesoError('DAMESO_NO_SUCH_NODE', `${flags.file} has no entry for ${name}; nothing deleted`);
        }
        process.stdout.write(`deleted ${name} from ${flags.file}\n`);
        return;
      }
      const password =
        flags.passwordFile === undefined
          ? await readPasswordFromStdin()
          : await readPasswordFile('--password-file', flags.passwordFile);
      if ([...password].length < MIN_PASSWORD_CHARS) {
        throw new DamesoError('DAMESO_USAGE', `the password must be at least ${MIN_PASSWORD_CHARS} characters`);
      }
      const done = await setCredential(flags.file, name, password, undefined, flag === '--viewer');
      process.stdout.write(`${done} ${flag === '--viewer' ? 'viewer ' : ''}${name} in ${flags.file}\n`);
    });
}

/** Exactly one of --node and --viewer names the entry. */
function passwdName(flags: PasswdFlags): { name: string; flag: '--node' | '--viewer' } {
  if ((flags.node === undefined) === (flags.viewer === undefined)) {
    throw new DamesoError('DAMESO_USAGE', 'give exactly one of --node ID and --viewer NAME');
  }
  return flags.node !== undefined
    ? { name: flags.node, flag: '--node' }
    : { name: flags.viewer ?? '', flag: '--viewer' };
}

/**
 * Per-client credentials for a fleet against a broker that authenticates: a random password per
 * node id (and per worker and the requester), each in its own 0600 file, and their scrypt hashes in
 * one users file (written by `dameso broker passwd`'s own code) that the user hands their broker
 * (`dameso broker --auth-file FILE`). Kept in the data folder: a later run reuses them, and only ids
 * without a password yet are added.
 *
 * The passwords are 24 random bytes: key stretching adds nothing against guessing them, so the
 * hashes use scrypt's lightest accepted cost (every CONNECT of a thousand nodes verifies one).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type ScryptParams, setCredential } from '../../broker/index.js';

/** scrypt cost of generated fleet passwords (log2 N = 10, the least the broker accepts). */
const FLEET_SCRYPT: ScryptParams = { ln: 10, r: 8, p: 1 };
/** Random bytes in a generated password (base64url in its file). */
const PASSWORD_BYTES = 24;

export interface FleetCredentials {
  passwords: Record<string, string>;
  passwordFiles: Record<string, string>;
  /** The users file to hand the broker. */
  usersFile: string;
}

async function readSecret(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Credentials for `ids` in `dir` (created 0700): each id's password is `shared` when given (one
 * password for every client, e.g. from --password-file), else a generated one kept in `<id>.secret`.
 */
export async function fleetCredentials(
  dir: string,
  ids: readonly string[],
  shared?: string,
): Promise<FleetCredentials> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const usersFile = path.join(dir, 'users');
  const passwords: Record<string, string> = {};
  const passwordFiles: Record<string, string> = {};
  // A users file deleted since: every id goes in again.
  const fresh = (await readSecret(usersFile)) === undefined;
  for (const id of ids) {
    const file = path.join(dir, `${id}.secret`);
    const known = await readSecret(file);
    const password = shared ?? known ?? randomBytes(PASSWORD_BYTES).toString('base64url');
    if (password !== known || fresh) {
      await writeFile(file, `${password}\n`, { mode: 0o600 });
      await setCredential(usersFile, id, password, FLEET_SCRYPT);
    }
    passwords[id] = password;
    passwordFiles[id] = file;
  }
  return { passwords, passwordFiles, usersFile };
}

/**
 * Broker authentication: a credentials file of scrypt hashes, one node per line, and the check a
 * CONNECT goes through when `dameso broker --auth-file F` is given.
 *
 * File format (UTF-8 text; `#` comments and blank lines are kept as they are):
 *   {node}:$scrypt$ln={log2 N},r={r},p={p}${salt, base64 without padding}${hash, base64 without padding}
 *   {viewer}:viewer:$scrypt$…   a read-only credential (a dashboard): it may only subscribe
 * The hash part is the PHC string format (the one of Argon2/passlib), so the cost can be raised
 * for new entries while old ones still verify. Node ids cannot hold `:`, so the first `:` splits.
 * A password is never stored, logged or passed in argv.
 */

import { createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { Aedes, Client } from 'aedes';
import { writeAtomic } from '../src/atomic-write.js';
import { ConfigError } from '../src/errors.js';
import { NODE_ID_PATTERN, nodeIdFromClientId } from '../src/protocol/index.js';
import { createScryptGate, type GateRefusal, type ScryptGateOptions } from './scrypt-gate.js';

/**
 * Default scrypt cost: N = 2^15, r = 8, p = 1 (32 MiB, about 0.1 s on a desktop core). A hash is
 * computed once per node at its first CONNECT after a start or reload; later CONNECTs of the same
 * node with the same password are matched against a keyed digest kept in memory (see below).
 */
export const SCRYPT_DEFAULTS = { ln: 15, r: 8, p: 1 } as const;
const SCRYPT_SALT_BYTES = 16;
const SCRYPT_KEY_BYTES = 32;
/** Shortest password `dameso broker passwd` accepts, characters. */
export const MIN_PASSWORD_CHARS = 8;

export interface ScryptParams {
  /** log2 of N (CPU/memory cost). */
  ln: number;
  r: number;
  p: number;
}

export interface PasswordHash extends ScryptParams {
  salt: Buffer;
  hash: Buffer;
}

/** A credential of the file: a node's, or a viewer's (read-only, `viewer:` before its hash). */
export interface StoredCredential extends PasswordHash {
  viewer?: true;
}

/** What marks a viewer entry, between the name's `:` and the hash. */
const VIEWER_MARK = 'viewer:';
/** Client ids of a viewer start with this, then `{viewer}.` (many tabs, each its own id). */
export const VIEWER_CLIENT_ID_PREFIX = 'dameso-view.';

/** Why a CONNECT was refused (each counted in the broker stats). */
export type AuthRefusal = 'no_credentials' | 'unknown_node' | 'bad_password' | 'client_id_mismatch' | GateRefusal;
export const AUTH_REFUSALS: readonly AuthRefusal[] = [
  'no_credentials',
  'unknown_node',
  'bad_password',
  'client_id_mismatch',
  'busy',
  'throttled',
];

/** `viewer` is set for a read-only credential: `node` is then the viewer's name, not a node. */
export type AuthResult = { ok: true; node: string; viewer?: true } | { ok: false; reason: AuthRefusal };

/** What the broker host asks of an authenticator. */
export interface BrokerAuth {
  /**
   * `source` is the peer's address (scrypt-gate.ts throttles per address). `busy` and `throttled`
   * are not a verdict on the password: the host answers them with CONNACK 3, which nodes retry.
   */
  authenticate(
    clientId: string,
    username: string | undefined,
    password: Buffer | undefined,
    source?: string,
  ): Promise<AuthResult>;
  /** Reads the credentials again; on an error the previous ones stay in force. */
  reload(): Promise<void>;
  /** Nodes with credentials. */
  size(): number;
  /** Whether `node` has credentials now. */
  has(node: string): boolean;
}

function scrypt(password: Buffer | string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.ln;
  return new Promise((resolve, reject) =>
    scryptCb(
      password,
      salt,
      SCRYPT_KEY_BYTES,
      // Node refuses above 32 MiB by default; allow what these parameters need, with room.
      { N, r: params.r, p: params.p, maxmem: 256 * N * params.r * params.p },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

const b64 = (b: Buffer): string => b.toString('base64').replace(/=+$/, '');

function formatHash(h: PasswordHash): string {
  return `$scrypt$ln=${h.ln},r=${h.r},p=${h.p}$${b64(h.salt)}$${b64(h.hash)}`;
}

const HASH_PATTERN = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,})\$([A-Za-z0-9+/]{32,})$/;

/** Parses a PHC scrypt string; undefined when it is not one (or its cost is out of range). */
export function parseHash(text: string): PasswordHash | undefined {
  const m = HASH_PATTERN.exec(text);
  if (!m) return undefined;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Bounds keep a hand-edited line from making every CONNECT allocate gigabytes.
  if (ln < 10 || ln > 20 || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  return { ln, r, p, salt: Buffer.from(m[4] as string, 'base64'), hash: Buffer.from(m[5] as string, 'base64') };
}

export async function hashPassword(password: string, params: ScryptParams = SCRYPT_DEFAULTS): Promise<string> {
  const salt = randomBytes(SCRYPT_SALT_BYTES);
  return formatHash({ ...params, salt, hash: await scrypt(password, salt, params) });
}

export async function verifyPassword(password: Buffer | string, stored: PasswordHash): Promise<boolean> {
  const key = await scrypt(password, stored.salt, stored);
  return key.length === stored.hash.length && timingSafeEqual(key, stored.hash);
}

/** One line of a credentials file: an entry, or text kept verbatim (comment, blank). */
type Line = { node: string; hash: string; viewer?: true } | { text: string };

const entryText = (l: { node: string; hash: string; viewer?: true }): string =>
  `${l.node}:${l.viewer ? VIEWER_MARK : ''}${l.hash}`;

function parseLines(text: string, source: string): Line[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return { text: line };
    const where = `${source} line ${i + 1}`;
    const colon = trimmed.indexOf(':');
    if (colon < 0) throw new ConfigError('auth-file', `${where}: expected NODE:$scrypt$..., found no ":"`);
    const node = trimmed.slice(0, colon);
    const viewer = trimmed.startsWith(VIEWER_MARK, colon + 1);
    const hash = trimmed.slice(colon + 1 + (viewer ? VIEWER_MARK.length : 0));
    if (!NODE_ID_PATTERN.test(node)) {
      throw new ConfigError('auth-file', `${where}: node id "${node.slice(0, 64)}" is not [A-Za-z0-9_-]{1,64}`);
    }
    if (parseHash(hash) === undefined) {
      throw new ConfigError(
        'auth-file',
        `${where}: node ${node}: not a scrypt hash ($scrypt$ln=10..20,r=1..32,p=1..16$SALT$HASH); ` +
          'write entries with `dameso broker passwd`',
      );
    }
    return viewer ? { node, hash, viewer } : { node, hash };
  });
}

/**
 * Parses a credentials file's text: node → hash. Throws ConfigError naming the line on a malformed
 * entry or a node listed twice (which of two passwords holds would otherwise be a guess).
 */
export function parseCredentials(text: string, source = 'credentials'): Map<string, StoredCredential> {
  const out = new Map<string, StoredCredential>();
  parseLines(text, source).forEach((line, i) => {
    if (!('node' in line)) return;
    if (out.has(line.node))
      throw new ConfigError('auth-file', `${source} line ${i + 1}: node ${line.node} listed twice`);
    const hash = parseHash(line.hash) as PasswordHash;
    out.set(line.node, line.viewer ? { ...hash, viewer: true } : hash);
  });
  return out;
}

async function readCredentialsFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      'auth-file',
      `cannot read ${file} (${code ?? String(err)}); create it with \`dameso broker passwd\``,
    );
  }
}

export async function loadCredentials(file: string): Promise<Map<string, StoredCredential>> {
  return parseCredentials(await readCredentialsFile(file), file);
}

/**
 * Adds or replaces `node`'s entry, keeping every other line as it was. Written atomically: a
 * temporary file in the same folder (mode 0600, whatever the umask), fsynced, renamed over the
 * old one, then the folder fsynced; a reader (or a SIGHUP reload) sees the old file or the new.
 * A malformed existing file is refused, not rewritten.
 */
export async function setCredential(
  file: string,
  node: string,
  password: string,
  params: ScryptParams = SCRYPT_DEFAULTS,
  viewer = false,
): Promise<'added' | 'replaced'> {
  if (!NODE_ID_PATTERN.test(node)) throw new ConfigError('node', `"${node}" is not [A-Za-z0-9_-]{1,64}`);
  let lines: Line[] = [];
  try {
    lines = parseLines(await readFile(file, 'utf8'), file);
  } catch (err) {
    if (err instanceof ConfigError) throw err; // names the bad line
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new ConfigError('auth-file', `cannot read ${file} (${code ?? String(err)})`);
  }
  const hash = await hashPassword(password, params);
  const entry: Line = viewer ? { node, hash, viewer: true } : { node, hash };
  const at = lines.findIndex((l) => 'node' in l && l.node === node);
  if (at >= 0) lines[at] = entry;
  else lines.push(entry);
  const text = lines.map((l) => ('node' in l ? entryText(l) : l.text)).join('\n');
  await writeSecretFile(file, `${text}\n`);
  return at >= 0 ? 'replaced' : 'added';
}

/** Removes `node`'s entry, keeping every other line; false when it had none (the file is left as it was). */
export async function deleteCredential(file: string, node: string): Promise<boolean> {
  let lines: Line[];
  try {
    lines = parseLines(await readFile(file, 'utf8'), file);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    throw new ConfigError('auth-file', `cannot read ${file} (${code ?? String(err)})`);
  }
  const kept = lines.filter((l) => !('node' in l && l.node === node));
  if (kept.length === lines.length) return false;
  await writeSecretFile(file, `${kept.map((l) => ('node' in l ? entryText(l) : l.text)).join('\n')}\n`);
  return true;
}

/** Mode 0600 exactly: the umask may narrow it further, never widen it; the hashes stay private. */
function writeSecretFile(file: string, text: string): Promise<void> {
  return writeAtomic(file, text, { mode: 0o600, exactMode: true });
}

export interface FileAuthOptions {
  file: string;
  /** Told when the file is readable by group or others (the hashes can then be attacked offline). */
  onLoosePermissions?: (mode: number) => void;
  /** Admission for scrypt checks (scrypt-gate.ts defaults otherwise). */
  gate?: ScryptGateOptions;
}

/**
 * An authenticator over a credentials file; `reload()` re-reads it (SIGHUP in `dameso broker`).
 *
 * The first CONNECT of a node runs scrypt; once it succeeds, an HMAC of the password under a key
 * made at start (never written anywhere) is kept for that node, so the reconnects of a whole fleet
 * after a broker restart or a network cut cost one HMAC each instead of one scrypt each. Likewise
 * the last wrong password of each node: a node left with an old password retries every few
 * seconds forever, and each retry would cost a scrypt (~0.1 s of CPU). The remembered digests
 * are dropped at every reload.
 */
export async function createFileAuth(options: FileAuthOptions): Promise<BrokerAuth> {
  const digestKey = randomBytes(32);
  const digest = (password: Buffer): Buffer => createHmac('sha256', digestKey).update(password).digest();
  let credentials = new Map<string, StoredCredential>();
  let verified = new Map<string, Buffer>();
  let refused = new Map<string, Buffer>();
  const gate = createScryptGate(options.gate);

  const reload = async (): Promise<void> => {
    const next = await loadCredentials(options.file);
    const mode = (await stat(options.file)).mode & 0o777;
    if ((mode & 0o077) !== 0) options.onLoosePermissions?.(mode);
    credentials = next;
    verified = new Map();
    refused = new Map();
  };
  await reload();

  return {
    reload,
    size: () => credentials.size,
    has: (node) => credentials.has(node),
    async authenticate(clientId, username, password, source) {
      if (username === undefined || password === undefined) return { ok: false, reason: 'no_credentials' };
      const stored = credentials.get(username);
      if (stored === undefined) return { ok: false, reason: 'unknown_node' };
      // A node speaks only for itself: the client id (whose node the envelope check enforces) must be its own.
      if (!clientIdFits(clientId, username, stored)) return { ok: false, reason: 'client_id_mismatch' };
      const granted: AuthResult = stored.viewer
        ? { ok: true, node: username, viewer: true }
        : { ok: true, node: username };
      const d = digest(password);
      const good = verified.get(username);
      if (good !== undefined && timingSafeEqual(good, d)) return granted;
      const bad = refused.get(username);
      if (bad !== undefined && timingSafeEqual(bad, d)) return { ok: false, reason: 'bad_password' };
      const table = credentials;
      const admitted = await gate.admit(source, () => verifyPassword(password, stored));
      if (admitted === 'busy' || admitted === 'throttled') return { ok: false, reason: admitted };
      const ok = admitted;
      // A reload while scrypt ran must not have its fresh tables filled from the old credentials.
      // Both tables hold at most one digest per node listed in the file.
      if (table === credentials) (ok ? verified : refused).set(username, d);
      return ok ? granted : { ok: false, reason: 'bad_password' };
    },
  };
}

/**
 * A node speaks only for itself: its client id (whose node the envelope check enforces) must be
 * `dameso.{node}`. A viewer's is `dameso-view.{viewer}.{anything}`: never a node's, so a viewer
 * cannot take over a node's connection, and each of its tabs has its own.
 */
function clientIdFits(clientId: string, username: string, stored: StoredCredential): boolean {
  if (stored.viewer) return clientId.startsWith(`${VIEWER_CLIENT_ID_PREFIX}${username}.`);
  return nodeIdFromClientId(clientId) === username;
}

/**
 * After a reload, closes the connections of nodes the credentials no longer list (a node taken out
 * of the file must not keep speaking until it happens to reconnect); returns how many. A changed
 * password is not checked again until the node reconnects: the broker never keeps passwords.
 */
export function closeRevoked(broker: Aedes, auth: BrokerAuth): number {
  // Aedes keeps its connected clients by id; the field is not in its type declarations.
  const clients = (broker as unknown as { clients: Record<string, Client> }).clients;
  let closed = 0;
  for (const [id, client] of Object.entries(clients)) {
    const node = nodeIdFromClientId(id) ?? viewerFromClientId(id);
    if (node !== undefined && auth.has(node)) continue;
    client.close();
    closed++;
  }
  return closed;
}

/** The viewer a `dameso-view.{viewer}.{anything}` client id names, else undefined. */
export function viewerFromClientId(clientId: string): string | undefined {
  if (!clientId.startsWith(VIEWER_CLIENT_ID_PREFIX)) return undefined;
  const name = clientId.slice(VIEWER_CLIENT_ID_PREFIX.length).split('.')[0];
  return name !== undefined && NODE_ID_PATTERN.test(name) ? name : undefined;
}

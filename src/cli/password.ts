/**
 * Secrets for the CLI come from a file or a pipe, never from argv (which `ps` shows to every user
 * of the board and shells keep in their history).
 */
import { readFile } from 'node:fs/promises';
import { ConfigError, DamesoError } from '../errors.js';

/** The text without one trailing newline (`echo` and editors add one; it is not part of the secret). */
function withoutFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

/** Reads a password file (`--password-file`); a missing, unreadable or empty file is a ConfigError. */
export async function readPasswordFile(flag: string, file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(flag, `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const secret = withoutFinalNewline(text);
  if (secret === '') throw new ConfigError(flag, `${file} is empty`);
  if (secret.includes('\n'))
    throw new ConfigError(flag, `${file} holds more than one line; put only the password in it`);
  return secret;
}

/** Reads a password piped on stdin; refuses a terminal (it would echo the password). */
export async function readPasswordFromStdin(stdin: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (stdin.isTTY) {
    throw new DamesoError(
      'DAMESO_USAGE',
      'the password is read from stdin, which is a terminal here (it would echo): pipe it in or use --password-file',
    );
  }
  const parts: Buffer[] = [];
  for await (const chunk of stdin) parts.push(chunk as Buffer);
  const secret = withoutFinalNewline(Buffer.concat(parts).toString('utf8'));
  if (secret === '') throw new DamesoError('DAMESO_USAGE', 'no password on stdin');
  if (secret.includes('\n'))
    throw new DamesoError('DAMESO_USAGE', 'stdin holds more than one line; pipe only the password');
  return secret;
}

/** `--password-file` of the commands that run a short-lived node (`intent`, `chunks`). */
export const PASSWORD_FILE_FLAG = [
  '--password-file <file>',
  'password for a broker run with --auth-file (user name = --id, so needs --id); the file holds only the password',
] as const;

/**
 * The broker password from `--password-file`, read before anything connects (missing or empty: exit
 * 78). The broker takes the node id as the user name, so a generated `cli-…` id could never match
 * an entry: the file needs `--id`.
 */
export async function brokerPasswordOf(f: { id?: string; passwordFile?: string }): Promise<string | undefined> {
  if (f.passwordFile === undefined) return undefined;
  if (f.id === undefined) {
    throw new DamesoError('DAMESO_USAGE', "--password-file needs --id NODE (the broker's user name for that password)");
  }
  return readPasswordFile('--password-file', f.passwordFile);
}

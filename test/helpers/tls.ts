/**
 * Throwaway TLS material for tests, made by the real `openssl` CLI: a private CA (EC P-256) and a
 * server certificate it signs for 127.0.0.1 / localhost, in a temp folder.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface TestPki {
  dir: string;
  /** Paths of the PEM files. */
  files: { ca: string; cert: string; key: string };
  /** Their contents. */
  ca: string;
  cert: string;
  key: string;
}

/** Throws a clear message when `openssl` is not on PATH (CI: add the Debian package `openssl`). */
export function requireOpenssl(): void {
  const probe = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      'these tests generate certificates with the `openssl` command, which is not on PATH: install it ' +
        '(Debian: apt-get install -y openssl)',
    );
  }
}

function openssl(cwd: string, args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * A CA named `caName` and a server certificate `serverName` it signs, valid for 127.0.0.1, ::1 and
 * localhost. Remove with `removePki`.
 */
export async function makeTestPki(caName = 'dameso test CA', serverName = 'broker.test'): Promise<TestPki> {
  requireOpenssl();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dameso-tls-'));
  openssl(dir, [
    'req',
    '-x509',
    ...EC,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    `/CN=${caName}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await writeFile(
    path.join(dir, 'server.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  openssl(dir, ['req', ...EC, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${serverName}`]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    'server.crt',
    '-extfile',
    'server.ext',
  ]);
  const files = {
    ca: path.join(dir, 'ca.crt'),
    cert: path.join(dir, 'server.crt'),
    key: path.join(dir, 'server.key'),
  };
  return {
    dir,
    files,
    ca: await readFile(files.ca, 'utf8'),
    cert: await readFile(files.cert, 'utf8'),
    key: await readFile(files.key, 'utf8'),
  };
}

export async function removePki(pki: TestPki | undefined): Promise<void> {
  if (pki !== undefined) await rm(pki.dir, { recursive: true, force: true });
}

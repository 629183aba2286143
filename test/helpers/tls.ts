/**
 * Throwaway TLS material for tests, made by the real `openssl` CLI: a private CA (EC P-256) and a
 * server certificate it signs for 127.0.0.1 / localhost, in a temp folder.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { BrokerHost } from '../../broker/index.js';
import { connectClient, endAll } from './broker-clients.js';

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

/**
 * The shared set-up of the TLS suites: two throwaway CAs (`pki` signs the broker, `other` a second
 * one), made once per file; and the broker hosts and clients a test started, ended after it.
 */
export interface TlsSuite {
  pki: TestPki;
  other: TestPki;
  hosts: BrokerHost[];
  clients: MqttClient[];
  /** A connected client, ended after the test. */
  client(url: string, options?: Parameters<typeof connectClient>[1]): Promise<MqttClient>;
  /** Resolves with the error of a connection attempt that must fail (mqtt.js emits it). */
  refusal(url: string, options?: Parameters<typeof connectClient>[1]): Promise<unknown>;
}

export function tlsSuite(): TlsSuite {
  const clients: MqttClient[] = [];
  const suite: TlsSuite = {
    pki: undefined as unknown as TestPki,
    other: undefined as unknown as TestPki,
    hosts: [],
    clients,
    async client(url, options = {}) {
      const c = await connectClient(url, options);
      clients.push(c);
      return c;
    },
    refusal(url, options = {}) {
      return connectClient(url, options).then(
        async (c) => {
          clients.push(c);
          throw new Error(`${url}: connected, expected a refusal`);
        },
        (err: unknown) => err,
      );
    },
  };
  beforeAll(async () => {
    suite.pki = await makeTestPki('dameso test CA', 'broker.test');
    suite.other = await makeTestPki('another CA', 'renewed.test');
  });
  afterAll(async () => {
    await removePki(suite.pki);
    await removePki(suite.other);
  });
  afterEach(async () => {
    await endAll(...suite.clients.splice(0));
    await Promise.all(suite.hosts.splice(0).map((h) => h.stop()));
  });
  return suite;
}

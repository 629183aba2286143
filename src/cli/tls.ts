/**
 * TLS files for the CLI: `--ca` (nodes, `intent`, `chunks`: trust a private CA for `mqtts://`) and
 * the broker's `--tls-cert`/`--tls-key`. They are read and checked at start, so a missing or broken
 * file is a one-line ConfigError (exit 78) naming the flag, not a TLS failure at the first connect.
 */

import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import type { BrokerHost } from '../../broker/index.js';
import { ConfigError, DamesoError, messageOf } from '../errors.js';
import type { Logger } from '../log.js';

/** `--ca` of the commands that connect to a broker. */
export const CA_FLAG = [
  '--ca <file>',
  'PEM CA certificate that an mqtts:// broker is verified against (a private CA); default: the system CAs',
] as const;

/** Reads a PEM file; missing, unreadable or empty is a ConfigError naming `flag`. */
async function readPem(flag: string, file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(flag, `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (text.trim() === '') throw new ConfigError(flag, `${file} is empty`);
  return text;
}

/** The PEM certificate(s) of `--ca FILE` (undefined without it), checked to hold a certificate. */
export async function readCaFile(flag: string, file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return undefined;
  const pem = await readPem(flag, file);
  try {
    new X509Certificate(pem);
  } catch (err) {
    throw new ConfigError(flag, `${file} is not a PEM certificate (${messageOf(err)})`);
  }
  return pem;
}

/** `--tls-port/--tls-cert/--tls-key` and `--wss-port` (served with their pair), as on the command line. */
export interface TlsFlags {
  tlsPort?: string;
  tlsCert?: string;
  tlsKey?: string;
  wssPort?: string;
}

/** The three flags go together: one missing is a usage error naming it; `--wss-port` needs them. */
export function checkTlsFlags(f: TlsFlags): boolean {
  const given = { '--tls-port': f.tlsPort, '--tls-cert': f.tlsCert, '--tls-key': f.tlsKey };
  const missing = Object.entries(given).filter(([, v]) => v === undefined);
  if (missing.length === 3 && f.wssPort !== undefined) {
    throw new DamesoError(
      'DAMESO_USAGE',
      "--wss-port serves the TLS listener's certificate: --tls-port, --tls-cert and --tls-key missing",
    );
  }
  if (missing.length === 3) return false;
  if (missing.length > 0) {
    throw new DamesoError(
      'DAMESO_USAGE',
      `--tls-port, --tls-cert and --tls-key go together: ${missing.map(([flag]) => flag).join(' and ')} missing`,
    );
  }
  return true;
}

/**
 * Reads the broker's certificate (chain) and key and checks that they load together (PEM, matching
 * key), so a bad pair fails at start or keeps the old one at a reload.
 */
export async function readTlsPair(certFile: string, keyFile: string): Promise<{ cert: string; key: string }> {
  const cert = await readPem('--tls-cert', certFile);
  const key = await readPem('--tls-key', keyFile);
  try {
    new X509Certificate(cert);
  } catch (err) {
    throw new ConfigError('--tls-cert', `${certFile} is not a PEM certificate (${messageOf(err)})`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new ConfigError('--tls-key', `${keyFile} is not the PEM private key of ${certFile} (${messageOf(err)})`);
  }
  return { cert, key };
}

/**
 * Reads the certificate and key again on every SIGHUP (a renewed certificate, no restart) until the
 * returned function is called; a pair that does not load keeps the current one, and says why.
 */
export function reloadTlsOnSighup(
  host: Pick<BrokerHost, 'reloadTls'>,
  files: { cert: string; key: string },
  log: Logger,
  report: (text: string, json: object) => void,
): () => void {
  const onHup = () => {
    readTlsPair(files.cert, files.key)
      .then(({ cert, key }) => {
        host.reloadTls(cert, key);
        const notAfter = new X509Certificate(cert).validTo;
        report(`dameso broker: TLS certificate reloaded (${files.cert}, valid until ${notAfter})`, {
          event: 'tls_reloaded',
          cert: files.cert,
          validTo: notAfter,
        });
      })
      .catch((err: unknown) =>
        log.error(
          { err, cert: files.cert, key: files.key },
          'TLS reload failed; the previous certificate stays in use',
        ),
      );
  };
  process.on('SIGHUP', onHup);
  return () => process.off('SIGHUP', onHup);
}

export const TLS_HELP = `
TLS (passwords and data encrypted on the field network): a private CA signs the broker's
certificate, whose subjectAltName lists every name/address nodes use in --broker. For a test, one
self-signed certificate is its own CA:
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout broker.key \\
    -out broker.crt -days 825 -subj /CN=broker.local -addext subjectAltName=DNS:broker.local,IP:10.0.0.5
  dameso broker --tls-port 8883 --tls-cert broker.crt --tls-key broker.key --tcp-host 127.0.0.1 \\
    --auth-file /etc/dameso/broker.users              # kill -HUP <pid> after renewing the certificate
  dameso node --id pi-7 --broker mqtts://10.0.0.5:8883 --ca broker.crt --password-file pi-7.secret
  dameso broker --tls-port 8883 --wss-port 8884 --tls-cert broker.crt --tls-key broker.key
    # also wss://10.0.0.5:8884 (MQTT over WebSocket over TLS, same certificate) for browsers
--tcp-host 127.0.0.1 keeps plain MQTT to nodes on the broker machine. Nodes get only the CA
certificate (broker.crt here), never broker.key; a certificate the CA did not sign, or a --broker
name it does not list, is refused by the node (exit 78), never accepted.
`;

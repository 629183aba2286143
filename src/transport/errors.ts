import { ConfigError, DamesoError } from '../errors.js';

/** The broker could not be reached within the start timeout. */
export class BrokerUnreachableError extends DamesoError {
  constructor(url: string, waitedMs: number, cause?: unknown) {
    super(
      'DAMESO_BROKER_UNREACHABLE',
      `could not connect to the MQTT broker at ${url} within ${waitedMs} ms; check --broker ` +
        '(mqtt://host:port) and that the broker runs (`dameso broker`, or --broker embedded)',
      { cause },
    );
  }
}

/**
 * Another process connects with this node's client id: the broker closes the older connection at
 * every CONNECT of the other (MQTT-3.1.4-2), so both would reconnect in a loop.
 */
export class IdTakenError extends DamesoError {
  constructor(url: string, node: string, clientId: string, losses: number, windowMs: number) {
    super(
      'DAMESO_ID_TAKEN',
      `another process is connected as ${node} to ${url}: the broker closed this connection ${losses} times ` +
        `within ${windowMs / 1000} s, each soon after it was accepted (client id ${clientId} taken over); stop the ` +
        'other process or give this one another --id',
    );
  }
}

/** start() was given up (Ctrl-C while the broker is awaited): nothing to report but the stop. */
export class StartAbortedError extends DamesoError {
  constructor(url: string) {
    super('DAMESO_START_ABORTED', `stopped while waiting for the MQTT broker at ${url}`);
  }
}

/**
 * The broker refused this node's CONNECT (CONNACK 4 bad user name or password, 5 not authorized): a
 * configuration matter (exit 78), not an unreachable broker.
 */
export class BrokerNotAuthorizedError extends ConfigError {
  readonly returnCode: number;

  constructor(url: string, node: string, returnCode: number, gavePassword = true) {
    super(
      'password',
      gavePassword
        ? `the MQTT broker at ${url} refused node ${node} (CONNACK ${returnCode}, not authorized): check --password-file ` +
            `against the broker's credentials (\`dameso broker passwd --node ${node}\`); the node id must be the user name`
        : `the MQTT broker at ${url} requires a password (CONNACK ${returnCode}) and none was given: add ` +
            `--password-file with node ${node}'s password (set on the broker with \`dameso broker passwd --node ${node}\`)`,
    );
    this.returnCode = returnCode;
  }
}

/**
 * The broker refused this node's CONNECT but accepts the same CONNECT without the Will: the Will's
 * presence topic is outside the broker's root, so the broker runs with another `--prefix`. A
 * configuration matter (exit 78), and not about passwords.
 */
export class BrokerPrefixMismatchError extends DamesoError {
  readonly returnCode: number;

  constructor(url: string, node: string, returnCode: number, root: string) {
    const prefix = root.slice(0, root.lastIndexOf('/'));
    super(
      'DAMESO_PREFIX_MISMATCH',
      `the MQTT broker at ${url} refused node ${node}'s Will on ${root}/presence/${node} (CONNACK ${returnCode}) ` +
        `but accepts the node without it: the broker's --prefix differs from this node's "${prefix}"? Give the ` +
        'broker and every node and command of the fleet the same --prefix (config "prefix")',
    );
    this.returnCode = returnCode;
  }
}

/** Node's codes for a peer certificate that does not verify (tls.connect with rejectUnauthorized). */
const CERTIFICATE_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** True when `err` says the broker's TLS certificate did not verify. */
export function isCertificateError(err: unknown): err is Error & { code?: string } {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  // mqtt.js's own words when the handshake ended without the peer being authorized.
  return (typeof code === 'string' && CERTIFICATE_CODES.has(code)) || err.message === 'TLS not authorized';
}

/**
 * The broker's TLS certificate did not verify (unknown CA, name mismatch, expired): a configuration
 * matter (exit 78) that retrying cannot fix until the CA or the certificate changes.
 */
export class BrokerCertificateError extends ConfigError {
  readonly tlsCode: string | undefined;

  constructor(url: string, cause: Error & { code?: string }) {
    super(
      'ca',
      `the TLS certificate of the MQTT broker at ${url} did not verify (${cause.code ?? cause.message}: ` +
        `${cause.message}): give the CA that signed it with --ca (PEM), and connect by a name or address ` +
        'the certificate lists (subjectAltName)',
    );
    this.tlsCode = cause.code;
  }
}

/**
 * `mqtts://` to a plain MQTT port, or `mqtt://` to a TLS one: a configuration matter (exit 78) that
 * waiting cannot fix.
 */
export class BrokerTlsMismatchError extends ConfigError {
  constructor(url: string, portSpeaksTls: boolean) {
    const fixed = portSpeaksTls ? url.replace(/^mqtt:/i, 'mqtts:') : url.replace(/^mqtts:/i, 'mqtt:');
    super(
      'broker',
      portSpeaksTls
        ? `${url}: this port speaks TLS: use ${fixed} (with --ca when its certificate is from a private CA)`
        : `${url}: this port does not speak TLS: use ${fixed}`,
    );
  }
}

/** Too many subscriptions: the table is bounded (`MAX_SUBSCRIPTIONS`). */
export class TooManySubscriptionsError extends DamesoError {
  constructor(max: number) {
    super('DAMESO_TOO_MANY_SUBSCRIPTIONS', `a transport holds at most ${max} subscriptions; unsubscribe first`);
  }
}

/** Publish or subscribe while the transport is stopped. */
export class TransportStoppedError extends DamesoError {
  constructor(what: string) {
    super('DAMESO_TRANSPORT_STOPPED', `${what}: the transport is stopped; start() it first`);
  }
}

/** A publish while the connection is down (a retained record is still republished at reconnect). */
export class NotConnectedError extends DamesoError {
  constructor(topic: string) {
    super(
      'DAMESO_NOT_CONNECTED',
      `not connected to the broker, ${topic.slice(0, 120)} not sent; retained records are sent again at reconnect`,
    );
  }
}

/** Broker host errors (stable codes; see src/errors.ts). */
import { DamesoError, messageOf } from '../src/errors.js';

/** A listener could not bind (port in use, no permission). */
export class BrokerListenError extends DamesoError {
  constructor(what: string, host: string, port: number, cause: unknown) {
    const detail = messageOf(cause);
    const fix =
      (cause as { code?: unknown } | undefined)?.code === 'EADDRNOTAVAIL'
        ? `${host} is not an address of this machine; listen on one it has (e.g. 0.0.0.0 or 127.0.0.1)`
        : 'choose another port (--port / --ws-port / --tls-port) or stop what holds it';
    super('DAMESO_BROKER_LISTEN', `cannot listen for ${what} on ${host}:${port}: ${detail}; ${fix}`, { cause });
  }
}

/** The Aedes internals the packet-size guard relies on are missing (Aedes upgraded). */
export class BrokerInternalsError extends DamesoError {
  constructor(detail: string) {
    super('DAMESO_BROKER_INTERNALS', `aedes internals changed: ${detail}; update broker/packet-guard.ts`);
  }
}

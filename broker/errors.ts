/** Broker host errors (stable codes; see src/errors.ts). */
import { DamesoError } from '../src/errors.js';

/** A listener could not bind (port in use, no permission). */
export class BrokerListenError extends DamesoError {
  constructor(what: string, host: string, port: number, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(
      'DAMESO_BROKER_LISTEN',
      `cannot listen for ${what} on ${host}:${port}: ${detail}; choose another port (--port / --ws-port / --tls-port) or stop what holds it`,
      { cause },
    );
  }
}

/** The Aedes internals the packet-size guard relies on are missing (Aedes upgraded). */
export class BrokerInternalsError extends DamesoError {
  constructor(detail: string) {
    super('DAMESO_BROKER_INTERNALS', `aedes internals changed: ${detail}; update broker/packet-guard.ts`);
  }
}

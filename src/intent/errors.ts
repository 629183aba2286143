import { DamesoError } from '../errors.js';

/** Too many open intents: the pending table is bounded (`maxPending`). */
export class IntentTableFullError extends DamesoError {
  constructor(max: number) {
    super(
      'DAMESO_INTENTS_FULL',
      `${max} intents are already pending; wait for some to close (await them) or raise maxPending`,
    );
  }
}

/** A declaration the node cannot make (bad kind, deadline out of range, bad `to`). */
export class BadDeclarationError extends DamesoError {
  constructor(message: string) {
    super('DAMESO_BAD_DECLARATION', message);
  }
}

/** A kind with no known serving role: register a handler for it or pass `kindRoles`. */
export class UnknownKindError extends DamesoError {
  constructor(kind: string) {
    super(
      'DAMESO_UNKNOWN_KIND',
      `intent kind "${kind}" has no serving role; use one of want_chunk, store_chunk, want_chunks, ` +
        'want_observations, or register a handler that declares its role',
    );
  }
}

/** The node is not started (or already stopped). */
export class NotStartedError extends DamesoError {
  constructor(what: string) {
    super('DAMESO_NOT_STARTED', `${what}: the node is not running; call start() first`);
  }
}

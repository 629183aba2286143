/**
 * The base of every error dameso throws on purpose.
 *
 * Each condition is one small class with a stable `code` (`DAMESO_…`) that callers, tests and
 * operators can match on; the message says what happened and, where there is one, the fix.
 * Areas declare their own subclasses next to their code (`series/errors.ts`, `protocol/errors.ts`…)
 * and extend this one. Model: fastify `lib/errors.js`, js-libp2p `interface/src/errors.ts`.
 */
export class DamesoError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bad configuration: thrown at start-up, names the key and the fix. */
export class ConfigError extends DamesoError {
  readonly key: string;

  constructor(key: string, message: string) {
    super('DAMESO_BAD_CONFIG', `config "${key}": ${message}`);
    this.key = key;
  }
}

/** What a caught value says: an Error's message, anything else as text. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** True when `err` is a DamesoError carrying `code`. */
export function hasCode(err: unknown, code: string): boolean {
  return err instanceof DamesoError && err.code === code;
}

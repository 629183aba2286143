/**
 * Errors of the chunks area: one class per condition, each with a stable code.
 */
import { DamesoError } from '../errors.js';

/** The bytes do not hash to the id they came with: never stored, served or counted. */
export class ChunkHashMismatchError extends DamesoError {
  readonly id: string;
  readonly actual: string;

  constructor(id: string, actual: string) {
    super(
      'DAMESO_CHUNK_HASH_MISMATCH',
      `chunk bytes hash to ${actual}, not to their id ${id}: rejected (fetch it from another holder)`,
    );
    this.id = id;
    this.actual = actual;
  }
}

/** Not a chunk id (lowercase hex SHA-256, 64 characters). */
export class BadChunkIdError extends DamesoError {
  constructor(id: unknown) {
    super(
      'DAMESO_BAD_CHUNK_ID',
      `"${String(id).slice(0, 80)}" is not a chunk id: expected 64 lowercase hex characters`,
    );
  }
}

/** The bytes hash right but are not a v1 chunk map (docs/protocol.md §8). */
export class MalformedChunkError extends DamesoError {
  constructor(why: string) {
    super('DAMESO_MALFORMED_CHUNK', `not a v1 chunk: ${why}`);
  }
}

/** A chunk above the maximum chunk size. */
export class ChunkTooLargeError extends DamesoError {
  constructor(size: number, max: number) {
    super('DAMESO_CHUNK_TOO_LARGE', `chunk of ${size} bytes is above the maximum of ${max} bytes: cut smaller chunks`);
  }
}

/** Storing the chunk would exceed the store's byte budget (or its index bound) and eviction is off or not enough. */
export class StorageFullError extends DamesoError {
  constructor(need: number, used: number, budget: number) {
    super(
      'DAMESO_STORAGE_FULL',
      `chunk store full: ${used} of ${budget} bytes used, ${need} more needed; raise the budget or set eviction to "evict"`,
    );
  }
}

/** No holder delivered a verified copy of the chunk. */
export class ChunkNotFoundError extends DamesoError {
  constructor(id: string, tried: number) {
    super(
      'DAMESO_CHUNK_NOT_FOUND',
      `no verified copy of chunk ${id} after asking ${tried} node(s): is any bt node holding it online?`,
    );
  }
}

/** The store was used before `open()` or after `close()`. */
export class StoreNotOpenError extends DamesoError {
  constructor() {
    super('DAMESO_CHUNK_STORE_CLOSED', 'chunk store used while not open: call open() first');
  }
}

/** A tiny typed listener set shared by the drivers (no EventEmitter: typed, and errors isolated). */
import type { Reading } from './types.js';

export interface ReadingEmitter {
  on(listener: (r: Reading) => void): () => void;
  emit(r: Reading): void;
}

export function createReadingEmitter(onListenerError: (err: unknown) => void): ReadingEmitter {
  const listeners = new Set<(r: Reading) => void>();
  return {
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(r) {
      for (const l of listeners) {
        try {
          l(r);
        } catch (err) {
          // A failing consumer must not stop the driver reading the port.
          onListenerError(err);
        }
      }
    },
  };
}

/** Increment a counter in a stats record. */
export function count(stats: Record<string, number>, key: string, by = 1): void {
  stats[key] = (stats[key] ?? 0) + by;
}

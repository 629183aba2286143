/**
 * Writing entries nobody awaits, from parts that must not throw on a write (the answer and declare
 * sides, the roster, the chunk store, a fetch). `Series.record` throws when the series cannot take
 * the entry (closed, failed, or a malformed entry); the failure of the series itself is reported
 * once, by its `onFailure`. Here each refusal is counted and handed to the caller, which decides
 * what to log.
 */
import type { EntryInput, Series } from './types.js';

/** Told of each entry the series refused; `refusals` counts them so far (1 at the first). */
export type OnRefused = (err: unknown, entry: EntryInput, refusals: number) => void;

/** A function that records an entry and never throws. */
export function recorder(series: Pick<Series, 'record'>, onRefused?: OnRefused): (entry: EntryInput) => void {
  let refusals = 0;
  return (entry) => {
    try {
      series.record(entry); // not awaited: durable with the next commit
    } catch (err) {
      onRefused?.(err, entry, ++refusals);
    }
  };
}

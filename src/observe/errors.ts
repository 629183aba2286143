import { DamesoError } from '../errors.js';

/** A geohash precision outside 1..12. */
export class BadPrecisionError extends DamesoError {
  constructor(precision: number) {
    super('DAMESO_BAD_CONFIG', `observe precision ${precision} is not an integer in 1..12; use e.g. 7 (≈153 m cells)`);
  }
}

/** A `want_observations` subject that is not a geohash. */
export class BadCellError extends DamesoError {
  constructor(cell: string) {
    super('DAMESO_BAD_CELL', `"${cell}" is not a geohash cell (1–12 chars of 0-9 b-h j k m n p-z)`);
  }
}

/** `dameso map` found no consensus in the series. */
export class NoConsensusError extends DamesoError {
  constructor(dir: string, metric?: string) {
    super(
      'DAMESO_NO_CONSENSUS',
      `no consensus entries${metric ? ` for metric "${metric}"` : ''} in the series at ${dir}; ` +
        'a mapper node writes them at its first survey (dameso node --survey-every, default 60 s)',
    );
  }
}

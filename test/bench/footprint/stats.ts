/** Median and range of a bench's repeated figures. */

export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export function spread(xs: readonly number[], digits = 3): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const mid =
    s.length === 0 ? 0 : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return {
    median: round(mid, digits),
    min: round(s[0] ?? 0, digits),
    max: round(s.at(-1) ?? 0, digits),
    runs: s.length,
  };
}

/** Pair by pair A/B (runs taken in turn), so a drift of the shared machine hits both alike. */
export function pairedRatio(a: readonly number[], b: readonly number[]): Spread {
  return spread(
    a.map((x, i) => x / (b[i] ?? Number.NaN)).filter((x) => Number.isFinite(x)),
    2,
  );
}

/** `x` rounded to `decimals` places (2 by default): figures shown in reports and status lines. */
export function roundTo(x: number, decimals = 2): number {
  const scale = 10 ** decimals;
  return Math.round(x * scale) / scale;
}

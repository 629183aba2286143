/** Synthetic ground truth for simulations: a value as a smooth function of position. */

export type Field = (lat: number, lon: number) => number;

export interface SmoothFieldOptions {
  /** Mean level, metric unit. Default 20. */
  base?: number;
  /** Peak deviation from the base, metric unit. Default 5. */
  amplitude?: number;
  /** Spatial period, degrees. Default 0.01 (about 1.1 km of latitude). */
  wavelengthDeg?: number;
}

/** `base + amplitude * sin(2π lat / λ) * cos(2π lon / λ)`: smooth, bounded, deterministic. */
export function smoothField(options: SmoothFieldOptions = {}): Field {
  const base = options.base ?? 20;
  const amp = options.amplitude ?? 5;
  const k = (2 * Math.PI) / (options.wavelengthDeg ?? 0.01);
  return (lat, lon) => base + amp * Math.sin(k * lat) * Math.cos(k * lon);
}

/**
 * The newest `size` latencies, for percentiles in live summaries (`dameso field`, `dameso fleet`):
 * bounded memory however long the run, sorted only when asked.
 */
export class LatencyReservoir {
  private readonly xs: number[] = [];
  private next = 0;

  constructor(private readonly size: number) {}

  push(ms: number): void {
    if (this.xs.length < this.size) this.xs.push(ms);
    else this.xs[this.next++ % this.size] = ms;
  }

  /** The p-th percentile (nearest rank), 0 when empty. */
  pct(p: number): number {
    if (this.xs.length === 0) return 0;
    const sorted = [...this.xs].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  }
}

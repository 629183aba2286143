/**
 * How a side is measured: latency rounds (one in flight), then throughput (WINDOW in flight), both
 * sides alternating in blocks so that load from other processes on the shared machine hits both alike.
 */

/** One side of the comparison: `round()` resolves once every responder's reply is in. */
export interface Side {
  round(): Promise<void>;
  stop(): Promise<void>;
  /** CPU seconds used so far by the side's responder processes (procs layout only). */
  responderCpuS?(): number;
}

export const WINDOW = 8;
const LAT_ROUNDS: Record<number, number> = { 1: 2000, 10: 1000, 100: 600 };
const TPUT_MS = 3000; // per side, in 6 alternating windows

export const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
export const r2 = (x: number) => Math.round(x * 100) / 100;

async function latency(side: Side, rounds: number, into: number[]): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await side.round();
    into.push(performance.now() - t0);
  }
}

async function throughput(side: Side, ms: number): Promise<{ rounds: number; secs: number }> {
  let rounds = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: WINDOW }, async () => {
      while (performance.now() < end) {
        await side.round();
        rounds++;
      }
    }),
  );
  return { rounds, secs: (performance.now() - t0) / 1000 };
}

/**
 * Both sides measured in alternating blocks (raw, dameso, raw, dameso…) so that load from other
 * processes on this shared machine hits both alike; ratios are computed from the totals. Where the
 * responders are processes, their CPU is summed over the side's own blocks only (not start-up, JIT
 * warm-up, or idling while the other side runs) and given per intent (all N responders together).
 */
export async function compare(raw: Side, dam: Side, n: number) {
  for (const side of [raw, dam]) for (let i = 0; i < 50; i++) await side.round(); // warm-up
  const blocks = 10;
  const per = Math.ceil((LAT_ROUNDS[n] ?? 200) / blocks);
  const lat = { raw: [] as number[], dam: [] as number[] };
  const tp = { raw: { rounds: 0, secs: 0 }, dam: { rounds: 0, secs: 0 } };
  const cpu = { raw: { s: 0, rounds: 0 }, dam: { s: 0, rounds: 0 } };
  const sides = [['raw', raw] as const, ['dam', dam] as const];
  const block = async (k: 'raw' | 'dam', side: Side, run: () => Promise<number>) => {
    const c0 = side.responderCpuS?.() ?? 0;
    const rounds = await run();
    cpu[k].s += (side.responderCpuS?.() ?? 0) - c0;
    cpu[k].rounds += rounds;
  };
  for (let b = 0; b < blocks; b++) {
    for (const [k, side] of sides) await block(k, side, () => latency(side, per, lat[k]).then(() => per));
  }
  for (let b = 0; b < 6; b++) {
    for (const [k, side] of sides) {
      await block(k, side, async () => {
        const t = await throughput(side, TPUT_MS / 6);
        tp[k].rounds += t.rounds;
        tp[k].secs += t.secs;
        return t.rounds;
      });
    }
  }
  const sum = (k: 'raw' | 'dam', side: Side) => ({
    p50Ms: r2(pct(lat[k], 50)),
    p99Ms: r2(pct(lat[k], 99)),
    intentsPerS: r2(tp[k].rounds / tp[k].secs),
    repliesPerS: r2((tp[k].rounds * n) / tp[k].secs),
    ...(side.responderCpuS ? { responderCpuUsPerIntent: Math.round((cpu[k].s * 1e6) / cpu[k].rounds) } : {}),
  });
  return { raw: sum('raw', raw), dameso: sum('dam', dam) };
}

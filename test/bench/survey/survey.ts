/**
 * Part 1: one survey round over one cell with N responders, dameso vs raw, in alternating blocks
 * (the order swapped every block) so that the shared machine's drift hits both arms alike.
 *
 * dameso round = `observe(cell)`: declare `want_observations`, collect, consensus, the consensus
 * entries appended and durable (the append promises resolved). raw round = `RawSurvey.round()`.
 */
import os from 'node:os';
import { encode } from '../../../src/protocol/index.js';
import { pct, r2 } from '../intents/measure.js';
import { BLOCKS, CELL, SURVEY_DEADLINE_MS, surveyRounds, WARMUP_ROUNDS } from './config.js';
import { type Mapper, startMappers, startRequester, stopAll } from './nodes.js';
import { startRawSurvey } from './raw.js';

type ObserveFn = Awaited<ReturnType<typeof startRequester>>['observe'];

/** What closed the dameso rounds and what they got, over every measured round. */
interface DamesoTally {
  closedBy: Record<string, number>;
  yes: number;
  no: number;
  silence: number;
  consensusEntries: number;
  /** Rounds where no YES carried data (every answer NO or silent): nothing to write. */
  roundsWithoutConsensus: number;
}

export const percentiles = (xs: number[]) => ({
  p50Ms: r2(pct(xs, 50)),
  p90Ms: r2(pct(xs, 90)),
  p99Ms: r2(pct(xs, 99)),
});

type Percentiles = ReturnType<typeof percentiles>;
const ratios = (a: Percentiles, b: Percentiles) => ({
  p50: r2(a.p50Ms / b.p50Ms),
  p90: r2(a.p90Ms / b.p90Ms),
  p99: r2(a.p99Ms / b.p99Ms),
});

async function damesoRound(observe: ObserveFn, tally: DamesoTally | undefined) {
  const res = await observe.observe(CELL);
  if (tally) {
    if (res.consensus.length === 0) tally.roundsWithoutConsensus += 1;
    const o = res.outcome;
    tally.closedBy[o.closedBy] = (tally.closedBy[o.closedBy] ?? 0) + 1;
    tally.yes += o.yes.length;
    tally.no += o.no.length;
    tally.silence += o.silence.length;
    tally.consensusEntries += res.consensus.length;
  }
  return res;
}

/** One warm-up round whose outcome gives the raw side its exact envelopes. */
async function captureEnvelopes(observe: ObserveFn, requesterId: string) {
  const res = await damesoRound(observe, undefined);
  const yes = res.outcome.yes[0];
  if (!yes) throw new Error('no YES reply to capture');
  const reply = { ...yes.envelope } as unknown as Record<string, unknown>;
  const request = {
    v: 1,
    id: res.outcome.id,
    from: requesterId,
    session: 1,
    kind: 'want_observations',
    t: Date.now(),
    deadline: SURVEY_DEADLINE_MS,
    subject: CELL,
  };
  return { reply, request, replyBytes: encode(reply).length, requestBytes: encode(request).length };
}

/** Round times into `into.round`; where a round tells its declare→close time, that into `into.close`. */
interface Samples {
  round: number[];
  close: number[];
}

async function timed(run: () => Promise<number | undefined>, rounds: number, into?: Samples): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    const closeMs = await run();
    into?.round.push(performance.now() - t0);
    if (closeMs !== undefined) into?.close.push(closeMs);
  }
}

export async function measureSurvey(url: string, n: number, root: string) {
  const mappers: Mapper[] = await startMappers(url, `m${n}`, n, root);
  const requester = await startRequester(url, `req-${n}`, root, n);
  const envelopes = await captureEnvelopes(requester.observe, requester.node.id);
  const raw = await startRawSurvey(url, n, envelopes.reply, envelopes.request);
  const tally: DamesoTally = {
    closedBy: {},
    yes: 0,
    no: 0,
    silence: 0,
    consensusEntries: 0,
    roundsWithoutConsensus: 0,
  };
  const lat: Record<'raw' | 'dameso', Samples> = { raw: { round: [], close: [] }, dameso: { round: [], close: [] } };
  // Warm-up rounds (no `into`) are neither timed into the figures nor tallied.
  const arms = {
    raw: (rounds: number, into?: Samples) => timed(() => raw.round().then(() => undefined), rounds, into),
    dameso: (rounds: number, into?: Samples) =>
      timed(
        () => damesoRound(requester.observe, into ? tally : undefined).then((r) => r.outcome.elapsedMs),
        rounds,
        into,
      ),
  };
  const perBlock = Math.ceil(surveyRounds(n) / BLOCKS);
  const loadStart = os.loadavg()[0] ?? 0;
  try {
    await arms.raw(WARMUP_ROUNDS);
    await arms.dameso(WARMUP_ROUNDS);
    for (let b = 0; b < BLOCKS; b++) {
      const order = b % 2 === 0 ? (['raw', 'dameso'] as const) : (['dameso', 'raw'] as const);
      for (const k of order) await arms[k](perBlock, lat[k]);
    }
  } finally {
    await raw.stop();
    await stopAll([requester.node, ...mappers.map((m) => m.node)]);
  }
  const rawP = percentiles(lat.raw.round);
  const damP = percentiles(lat.dameso.round);
  const closeP = percentiles(lat.dameso.close);
  return {
    rounds_per_arm: lat.raw.round.length,
    reply_bytes: envelopes.replyBytes,
    request_bytes: envelopes.requestBytes,
    raw: rawP,
    dameso: { ...damP, declare_to_close: closeP, ...tally },
    ratio: ratios(damP, rawP),
    // The intent alone (declare → outcome closed), before consensus and its durable append.
    ratio_declare_to_close: ratios(closeP, rawP),
    load: [r2(loadStart), r2(os.loadavg()[0] ?? 0)],
  };
}

/**
 * Part 1: one survey round over one cell with N responders, dameso vs raw, in alternating blocks
 * (the order swapped every block) so that the shared machine's drift hits both arms alike.
 *
 * dameso round = one round of the requester's survey loop (`surveyNow()`): declare
 * `want_observations` for the cell, collect, consensus, the consensus entries appended and durable,
 * then the round's `survey` entry appended and durable. Its `elapsed_ms` (declare → consensus
 * durable, the loop's own clock) and the outcome's close time (from the requester's series) are
 * kept beside the whole round. raw round = `RawSurvey.round()`.
 */
import os from 'node:os';
import type { DamesoNode } from '../../../src/node.js';
import type { SurveyFields } from '../../../src/observe/index.js';
import { encode } from '../../../src/protocol/index.js';
import { pct, r2 } from '../intents/measure.js';
import { BLOCKS, CELL, SURVEY_DEADLINE_MS, surveyRounds, WARMUP_ROUNDS } from './config.js';
import { LAST_OUTCOME_VIEW, type LastOutcome, type Mapper, startMappers, startRequester, stopAll } from './nodes.js';
import { startRawSurvey } from './raw.js';

type Requester = Awaited<ReturnType<typeof startRequester>>;

/** What closed the dameso rounds and what they got, over every measured round. */
interface DamesoTally {
  surveyOutcome: Record<string, number>;
  closedBy: Record<string, number>;
  yes: number;
  no: number;
  silence: number;
  consensusEntries: number;
  lowConfidence: number;
}

/** Per arm: the whole round; for dameso also declare → consensus durable and declare → close. */
interface Samples {
  round: number[];
  consensus: number[];
  close: number[];
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

const bump = (m: Record<string, number>, k: string) => {
  m[k] = (m[k] ?? 0) + 1;
};

/** One survey-loop round; its figures into `into`/`tally` when given (not during warm-up). */
async function damesoRound(req: Requester, into?: Samples, tally?: DamesoTally): Promise<void> {
  const before = req.node.series.view<LastOutcome>(LAST_OUTCOME_VIEW).count;
  const t0 = performance.now();
  const entry = (await req.observe.surveyNow()) as SurveyFields | undefined;
  const ms = performance.now() - t0;
  if (!entry) throw new Error('the requester has no survey loop');
  const last = req.node.series.view<LastOutcome>(LAST_OUTCOME_VIEW);
  if (entry.outcome === 'done' && last.count !== before + 1) throw new Error('survey round without one outcome');
  if (!into || !tally) return;
  bump(tally.surveyOutcome, entry.reason ? `${entry.outcome}:${entry.reason}` : entry.outcome);
  into.round.push(ms);
  if (entry.outcome !== 'done') return;
  into.consensus.push(entry.elapsed_ms);
  into.close.push(last.ms);
  bump(tally.closedBy, last.closedBy);
  tally.yes += last.yes;
  tally.no += last.no;
  tally.silence += last.silence;
  tally.consensusEntries += entry.consensus;
  tally.lowConfidence += entry.low_confidence;
}

/** One `observe(cell)` (what the loop runs per cell) whose outcome gives the raw side its envelopes. */
async function captureEnvelopes(req: Requester) {
  const res = await req.observe.observe(CELL);
  const yes = res.outcome.yes[0];
  if (!yes) throw new Error('no YES reply to capture');
  const reply = { ...yes.envelope } as unknown as Record<string, unknown>;
  const request = {
    v: 1,
    id: res.outcome.id,
    from: req.node.id,
    session: 1,
    kind: 'want_observations',
    t: Date.now(),
    deadline: SURVEY_DEADLINE_MS,
    subject: CELL,
  };
  return { reply, request, replyBytes: encode(reply).length, requestBytes: encode(request).length };
}

async function rawRounds(raw: { round(): Promise<number> }, rounds: number, into?: Samples): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await raw.round();
    into?.round.push(performance.now() - t0);
  }
}

async function damesoRounds(req: Requester, rounds: number, into?: Samples, tally?: DamesoTally): Promise<void> {
  for (let i = 0; i < rounds; i++) await damesoRound(req, into, tally);
}

const newTally = (): DamesoTally => ({
  surveyOutcome: {},
  closedBy: {},
  yes: 0,
  no: 0,
  silence: 0,
  consensusEntries: 0,
  lowConfidence: 0,
});

export async function measureSurvey(url: string, n: number, root: string) {
  const mappers: Mapper[] = await startMappers(url, `m${n}`, n, root);
  const req = await startRequester(url, `req-${n}`, root, n);
  const envelopes = await captureEnvelopes(req);
  const raw = await startRawSurvey(url, n, envelopes.reply, envelopes.request);
  const tally = newTally();
  const lat = {
    raw: { round: [], consensus: [], close: [] } as Samples,
    dameso: { round: [], consensus: [], close: [] } as Samples,
  };
  const arms = {
    raw: (rounds: number, into?: Samples) => rawRounds(raw, rounds, into),
    dameso: (rounds: number, into?: Samples) => damesoRounds(req, rounds, into, into ? tally : undefined),
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
    await stopAll([req.node, ...mappers.map((m) => m.node)] as DamesoNode[]);
  }
  const rawP = percentiles(lat.raw.round);
  const roundP = percentiles(lat.dameso.round);
  const consensusP = percentiles(lat.dameso.consensus);
  const closeP = percentiles(lat.dameso.close);
  return {
    rounds_per_arm: lat.raw.round.length,
    reply_bytes: envelopes.replyBytes,
    request_bytes: envelopes.requestBytes,
    raw: rawP,
    dameso: {
      round: roundP,
      declare_to_consensus_durable: consensusP,
      declare_to_close: closeP,
      ...tally,
    },
    // The loop's round: declare → consensus durable → its survey entry durable.
    ratio: ratios(roundP, rawP),
    // As the loop measures it (`elapsed_ms`, whole ms): declare → consensus entries durable.
    ratio_declare_to_consensus: ratios(consensusP, rawP),
    // The intent alone (declare → outcome closed), before consensus and the appends.
    ratio_declare_to_close: ratios(closeP, rawP),
    load: [r2(loadStart), r2(os.loadavg()[0] ?? 0)],
  };
}

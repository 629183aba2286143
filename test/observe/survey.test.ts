/**
 * The survey loop on a manual clock over a real series in a temp folder: the jittered wait stays
 * within [0.8·S, 1.2·S], a round asks the cells observed since the last survey (oldest first, at
 * most the bound), a busy node records a skipped round, rounds never overlap, the round number
 * carries across a reopen of the series, and stop() lets an in-flight round end without rejecting.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import type { BackgroundPressure } from '../../src/node/types.js';
import {
  cellOf,
  createSurveyLoop,
  createSurveyView,
  MAX_SURVEY_CELLS_PER_ROUND,
  observationInput,
  type RequestResult,
  SURVEY_VIEW,
  type SurveyEntry,
  type SurveyLoop,
  type SurveyOptions,
  type SurveyState,
  surveyCells,
} from '../../src/observe/index.js';
import { createSeries } from '../../src/series/index.js';
import type { Entry, Series } from '../../src/series/types.js';

const S = 10;
const log = createLogger({ level: 'silent' });
const dirs: string[] = [];
const opened: Series[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function openSeries(dir?: string): Promise<{ series: Series; dir: string }> {
  const d = dir ?? (await mkdtemp(path.join(os.tmpdir(), 'dameso-survey-')));
  if (!dir) dirs.push(d);
  const series = createSeries({ dir: d, views: [createSurveyView()], durability: 'none' });
  await series.open();
  opened.push(series);
  return { series, dir: d };
}

/** A request that answers at once with one consensus of `responders` responders per cell. */
function fakeRequest(asked: string[], responders = 4) {
  return async (cell: string): Promise<RequestResult> => {
    asked.push(cell);
    const consensus = [
      {
        seq: 0,
        t: 0,
        event: 'consensus' as const,
        cell,
        metric: 'temp',
        value: 20,
        method: 'median' as const,
        spread: 0.5,
        responders: Array.from({ length: responders }, (_, i) => `n${i}`),
        weights: {},
        values: {},
        max_share: 0.2,
        rep_seq: 0,
        ...(responders < 3 ? { low_confidence: true as const } : {}),
      },
    ];
    return { cell, outcome: {} as RequestResult['outcome'], consensus, verdicts: {} };
  };
}

function loopOn(
  series: Series,
  clock: ManualClock,
  request: (cell: string) => Promise<RequestResult>,
  o: SurveyOptions & {
    random?: () => number;
    pressure?: () => BackgroundPressure | undefined;
    online?: () => boolean;
  } = {},
): SurveyLoop {
  return createSurveyLoop(
    {
      series,
      clock,
      log,
      pressure: o.pressure ?? (() => undefined),
      ...(o.online ? { online: o.online } : {}),
      request,
      random: o.random ?? (() => 0.5),
    },
    { everyS: S, ...o },
  );
}

async function observeIn(series: Series, lat: number, lon: number): Promise<string> {
  const e = await series.append(observationInput({ lat, lon, metric: 'temp', value: 20, fix: 8 }, 7));
  return e.cell as string;
}

async function surveys(series: Series): Promise<SurveyEntry[]> {
  const out: Entry[] = [];
  for await (const e of series.read({ event: 'survey' })) out.push(e);
  return out as SurveyEntry[];
}

describe('survey loop', () => {
  test('each wait is uniform in [0.8·S, 1.2·S] of the injected random', async () => {
    for (const [r, waitMs] of [
      [0, 0.8 * S * 1000],
      [0.5, S * 1000],
      [0.999999, 1.2 * S * 1000],
    ] as const) {
      const { series } = await openSeries();
      const clock = createManualClock();
      const asked: string[] = [];
      const loop = loopOn(series, clock, fakeRequest(asked), { random: () => r });
      await observeIn(series, 48.2, 16.37);
      loop.start();
      clock.advance(Math.floor(waitMs) - 1);
      await loop.settled();
      expect(asked).toEqual([]);
      clock.advance(1);
      await loop.settled();
      expect(asked).toHaveLength(1);
      await loop.stop();
    }
  });

  test('a round asks the cells observed since the last survey, plus the configured ones; one entry per round', async () => {
    const { series } = await openSeries();
    const clock = createManualClock();
    const asked: string[] = [];
    const loop = loopOn(series, clock, fakeRequest(asked), { cells: ['u09tv'] });
    const a = await observeIn(series, 48.2, 16.37);
    const b = await observeIn(series, 48.21, 16.38);
    await observeIn(series, 48.2, 16.37); // again in a: still one subject
    const first = await loop.runRound();
    expect(asked).toEqual(['u09tv', a, b]); // never-surveyed configured prefix first, then by first observation
    expect(first).toMatchObject({ event: 'survey', round: 1, cells: ['u09tv', a, b], outcome: 'done', consensus: 3 });
    expect(first?.responders).toBe(4);
    expect(first?.low_confidence).toBe(0);
    // Only b observed since: b, and the configured prefix is due again.
    asked.length = 0;
    await observeIn(series, 48.21, 16.38);
    const second = await loop.runRound();
    expect(asked).toEqual(['u09tv', b]); // the prefix was surveyed before b's new observation
    expect(second).toMatchObject({ round: 2, outcome: 'done' });
    // A configured prefix covers the observed cells inside it: asked once, through the prefix.
    asked.length = 0;
    await observeIn(series, 48.2, 16.37);
    await loopOn(series, clock, fakeRequest(asked), { cells: ['u2ed'] }).runRound();
    expect(asked).toEqual(['u2ed']);
    expect(surveyCells(series.view<SurveyState>(SURVEY_VIEW), [], 16)).toEqual([]);
    // Nothing observed and nothing configured: skipped, no_cells.
    const bare = await openSeries();
    const idle = await loopOn(bare.series, clock, fakeRequest([])).runRound();
    expect(idle).toMatchObject({ round: 1, outcome: 'skipped', reason: 'no_cells', cells: [] });
    expect(await surveys(series)).toHaveLength(3);
  });

  test('low-confidence consensus is counted in the round', async () => {
    const { series } = await openSeries();
    const loop = loopOn(series, createManualClock(), fakeRequest([], 1));
    await observeIn(series, 48.2, 16.37);
    expect(await loop.runRound()).toMatchObject({ consensus: 1, low_confidence: 1, responders: 1 });
  });

  test(`at most ${MAX_SURVEY_CELLS_PER_ROUND} cells per round, the oldest-unsurveyed first; the rest next round`, async () => {
    const { series } = await openSeries();
    const asked: string[] = [];
    const loop = loopOn(series, createManualClock(), fakeRequest(asked));
    const cells: string[] = [];
    for (let i = 0; i < MAX_SURVEY_CELLS_PER_ROUND + 4; i++)
      cells.push(await observeIn(series, 48.2 + i * 0.01, 16.37));
    await loop.runRound();
    expect(asked).toEqual(cells.slice(0, MAX_SURVEY_CELLS_PER_ROUND));
    asked.length = 0;
    const late = await observeIn(series, 10, 10);
    await loop.runRound();
    expect(asked).toEqual([...cells.slice(MAX_SURVEY_CELLS_PER_ROUND), late]);
  });

  test('while the node is busy the round is skipped and recorded with the reason; the cells stay due', async () => {
    const { series } = await openSeries();
    const clock = createManualClock();
    const asked: string[] = [];
    let busy: BackgroundPressure | undefined = 'cpu_busy';
    const loop = loopOn(series, clock, fakeRequest(asked), { pressure: () => busy });
    const cell = await observeIn(series, 48.2, 16.37);
    loop.start();
    clock.advance(S * 1000);
    await loop.settled();
    busy = 'memory_low';
    clock.advance(S * 1000);
    await loop.settled();
    expect(asked).toEqual([]);
    busy = undefined;
    clock.advance(S * 1000);
    await loop.settled();
    expect(asked).toEqual([cell]);
    await loop.stop();
    const all = await surveys(series);
    expect(all.map((e) => [e.round, e.outcome, e.reason])).toEqual([
      [1, 'skipped', 'cpu_busy'],
      [2, 'skipped', 'memory_low'],
      [3, 'done', undefined],
    ]);
    expect(all[0]?.cells).toEqual([cell]);
  });

  test('while the broker is away the round is skipped (broker_offline), not run against nobody', async () => {
    const { series } = await openSeries();
    const clock = createManualClock();
    const asked: string[] = [];
    let online = false;
    const loop = loopOn(series, clock, fakeRequest(asked), { online: () => online });
    const cell = await observeIn(series, 48.2, 16.37);
    loop.start();
    clock.advance(S * 1000);
    await loop.settled();
    expect(asked).toEqual([]);
    online = true;
    clock.advance(S * 1000);
    await loop.settled();
    await loop.stop();
    expect(asked).toEqual([cell]);
    const all = await surveys(series);
    expect(all.map((e) => [e.round, e.outcome, e.reason])).toEqual([
      [1, 'skipped', 'broker_offline'],
      [2, 'done', undefined],
    ]);
  });

  test('rounds never overlap: the next wait starts when a round ends', async () => {
    const { series } = await openSeries();
    const clock = createManualClock();
    let release: () => void = () => undefined;
    let calls = 0;
    const slow = fakeRequest([]);
    const request = async (cell: string): Promise<RequestResult> => {
      calls++;
      await new Promise<void>((r) => {
        release = r;
      });
      return slow(cell);
    };
    const loop = loopOn(series, clock, request);
    await observeIn(series, 48.2, 16.37);
    loop.start();
    clock.advance(S * 1000);
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(1);
    expect(clock.pendingTimers()).toBe(0); // no timer while the round runs
    clock.advance(10 * S * 1000);
    const joined = loop.runRound(); // joins the one in flight
    expect(calls).toBe(1);
    release();
    const entry = await joined;
    await loop.settled();
    expect(entry?.round).toBe(1);
    expect(clock.pendingTimers()).toBe(1); // the next wait, from the end of the round
    await loop.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  test('the round number carries on after the series is reopened', async () => {
    const { series, dir } = await openSeries();
    const loop = loopOn(series, createManualClock(), fakeRequest([]));
    await observeIn(series, 48.2, 16.37);
    await loop.runRound();
    await loop.runRound();
    await series.close();
    const again = await openSeries(dir);
    expect(again.series.view<SurveyState>(SURVEY_VIEW).round).toBe(2);
    await observeIn(again.series, 48.2, 16.37);
    const next = await loopOn(again.series, createManualClock(), fakeRequest([])).runRound();
    expect(next?.round).toBe(3);
  });

  test('stop() during a round lets it finish its current cell, leaves the rest due, never rejects', async () => {
    const { series } = await openSeries();
    const clock = createManualClock();
    const asked: string[] = [];
    let release: () => void = () => undefined;
    const request = async (cell: string): Promise<RequestResult> => {
      asked.push(cell);
      await new Promise<void>((r) => {
        release = r;
      });
      throw Object.assign(new Error('broker gone'), { code: 'DAMESO_OFFLINE' });
    };
    const loop = loopOn(series, clock, request);
    const a = await observeIn(series, 48.2, 16.37);
    const b = await observeIn(series, 48.3, 16.37);
    loop.start();
    clock.advance(S * 1000);
    await new Promise((r) => setImmediate(r));
    const stopping = loop.stop();
    release();
    await expect(stopping).resolves.toBeUndefined();
    expect(asked).toEqual([a]);
    const [entry] = await surveys(series);
    expect(entry).toMatchObject({ round: 1, outcome: 'failed', reason: 'DAMESO_OFFLINE', cells: [a] });
    expect(surveyCells(series.view<SurveyState>(SURVEY_VIEW), [], 16)).toEqual([a, b]);
    expect(cellOf(48.2, 16.37, 7)).toBe(a);
  });
});

/**
 * The observe service for `createNode` (`services: [createObserveService(…)]`): registers the
 * reputation and cell-index views, serves `want_observations` (role `mapper`), runs the observer
 * over the drivers it is handed (it starts and stops their listening; the ports stay the caller's),
 * gives the node `observe(cell)`: declare, collect, consensus, write, push; and, on a node with
 * the `mapper` role or configured survey cells, runs the survey loop (survey.ts) that calls it by
 * itself every `surveyEveryS`.
 */
import type { SensorDriver } from '../../devices/sensors/index.js';
import type { IntentHandler } from '../intent/types.js';
import type { Logger } from '../log.js';
import type { NodeComponents, Service, ServiceInstance } from '../node/types.js';
import type { Series, View } from '../series/types.js';
import { createCellIndexView } from './cell-index.js';
import { createObservationHandler, MAPPER_ROLE } from './handler.js';
import { createObserver, type Observer, type ObserverStats } from './observer.js';
import { REPUTATION_VIEW, type ReputationState, reputationScores, reputationView } from './reputation.js';
import { type ConsensusPusher, type RequestOptions, type RequestResult, requestConsensus } from './request.js';
import { createSurveyLoop, createSurveyView, type SurveyLoop, type SurveyStats } from './survey.js';

export interface ObserveServiceOptions extends RequestOptions {
  /** Drivers to observe from (GPS + sensors, or simulated sensors). Default none (answer and request only). */
  drivers?: readonly SensorDriver[];
  /** Geohash characters of observation cells. Default `DEFAULT_CELL_PRECISION` (7). */
  precision?: number;
  /** ms; default `DEFAULT_MAX_FIX_AGE_MS`. */
  maxFixAgeMs?: number;
  /** Position used when no driver gives a fix (a fixed station). */
  staticPosition?: { lat: number; lon: number };
  /** The chunk layer's push (`createChunksService()`), to push consensus chunks. Default: not pushed. */
  chunks?: ConsensusPusher;
  /** Replace or wrap the handler (tests build liars that answer from a biased sensor this way). */
  wrapHandler?: (h: IntentHandler) => IntentHandler;
  /**
   * s between survey rounds (jittered ±20 %), 0 = off. Default 0 here (a library user opts in);
   * `dameso node` passes `DEFAULT_SURVEY_EVERY_S` (60).
   */
  surveyEveryS?: number;
  /** Cells or geohash prefixes every survey round asks about besides the observed ones. Default none. */
  survey?: readonly string[];
  /** Uniform in [0,1) for the survey jitter. Default `Math.random`. */
  random?: () => number;
}

/** The running part the node keeps (`node.services.observe`). */
export interface ObserveInstance extends ServiceInstance {
  /** The survey loop's round counters (metrics); undefined when this node does not survey. */
  surveyStats(): SurveyStats | undefined;
}

export interface ObserveService extends Service<ObserveInstance> {
  readonly name: 'observe';
  /** Declare `want_observations` for `cell` and write the consensus per metric. After node start. */
  observe(cell: string, options?: RequestOptions): Promise<RequestResult>;
  /** This node's reputation scores of its peers, from its live view. */
  reputation(): Record<string, number>;
  observerStats(): ObserverStats | undefined;
  /** Run one survey round now (or join the one in flight); undefined when the loop is not running. */
  surveyNow(): Promise<unknown> | undefined;
}

export function createObserveService(options: ObserveServiceOptions = {}): ObserveService {
  let c: NodeComponents | undefined;
  let observer: Observer | undefined;
  let survey: SurveyLoop | undefined;
  const need = (): NodeComponents => {
    if (!c) throw new Error('observe service: the node has not started');
    return c;
  };
  const lateSeries = {
    get series(): Series {
      return need().series;
    },
    get log(): Logger {
      return need().log;
    },
  };
  // The handler is registered before the node creates the service: it reaches the series late.
  const handler = createObservationHandler({
    get series() {
      return lateSeries.series;
    },
    get log() {
      return lateSeries.log;
    },
  });
  const service: ObserveService = {
    name: 'observe',
    views: [
      reputationView as View<unknown>,
      createCellIndexView() as View<unknown>,
      createSurveyView() as View<unknown>,
    ],
    handlers: [options.wrapHandler ? options.wrapHandler(handler) : handler],
    create(components) {
      c = components;
      const drivers = options.drivers ?? [];
      return {
        start() {
          survey = startSurvey(components, options, (cell) => service.observe(cell));
          if (drivers.length === 0 && !options.staticPosition) return;
          observer = createObserver({
            series: components.series,
            clock: components.clock,
            log: components.log,
            drivers,
            ...(options.precision !== undefined ? { precision: options.precision } : {}),
            ...(options.maxFixAgeMs !== undefined ? { maxFixAgeMs: options.maxFixAgeMs } : {}),
            ...(options.staticPosition ? { staticPosition: options.staticPosition } : {}),
          });
          observer.start();
          for (const d of drivers) d.start();
        },
        surveyStats: () => survey?.stats(),
        async stop() {
          await survey?.stop();
          for (const d of drivers) await d.stop();
          await observer?.stop();
        },
      };
    },
    observe(cell, o = {}) {
      const comp = need();
      return requestConsensus(
        {
          id: comp.id,
          series: comp.series,
          intents: comp.intents,
          log: comp.log,
          ...(options.chunks ? { chunks: options.chunks } : {}),
        },
        cell,
        { ...pickRequest(options), ...o },
      );
    },
    reputation() {
      return reputationScores(need().series.view<ReputationState>(REPUTATION_VIEW));
    },
    observerStats: () => observer?.stats(),
    surveyNow: () => survey?.runRound(),
  };
  return service;
}

/** The survey loop, when this node maps (role `mapper` or configured cells) and `surveyEveryS` > 0. */
function startSurvey(
  c: NodeComponents,
  o: ObserveServiceOptions,
  request: (cell: string) => Promise<RequestResult>,
): SurveyLoop | undefined {
  const everyS = o.surveyEveryS ?? 0;
  const cells = o.survey ?? [];
  if (everyS <= 0 || (!c.roles.includes(MAPPER_ROLE) && cells.length === 0)) return undefined;
  const loop = createSurveyLoop(
    {
      series: c.series,
      clock: c.clock,
      log: c.log,
      pressure: () => c.pressure(),
      online: () => c.transport.connection().state === 'online',
      request,
      ...(o.random ? { random: o.random } : {}),
    },
    { everyS, cells },
  );
  loop.start();
  return loop;
}

function pickRequest(o: ObserveServiceOptions): RequestOptions {
  const out: RequestOptions = {};
  if (o.metric !== undefined) out.metric = o.metric;
  if (o.method !== undefined) out.method = o.method;
  if (o.maxShare !== undefined) out.maxShare = o.maxShare;
  if (o.deadlineMs !== undefined) out.deadlineMs = o.deadlineMs;
  if (o.groupBy !== undefined) out.groupBy = o.groupBy;
  if (o.minResponders !== undefined) out.minResponders = o.minResponders;
  return out;
}

/**
 * The survey loop wired into the observe service of a real node (real Aedes, real series): it runs
 * on a mapper, records its rounds in the series, and its counters reach the node's metrics; a node
 * that neither maps nor has survey cells runs no loop and exports no survey families.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createMetrics, nodeSource, startMetricsServer } from '../../src/metrics/index.js';
import { createObserveService, type ObserveInstance, type SurveyEntry } from '../../src/observe/index.js';
import type { Entry } from '../../src/series/types.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { NodePool } from '../helpers/node-fixtures.js';
import { get, sample } from '../metrics/scrape.js';

const pool = new NodePool();
let broker: BrokerHandle;
beforeAll(async () => {
  broker = await startAedes();
});
afterAll(async () => {
  await pool.cleanup();
  await broker.stop();
});

test('a mapper surveys through its observe service; rounds by outcome and the last round time are scraped', async () => {
  // A period far beyond the test: rounds here run only when asked (surveyNow), never on a timer.
  const observe = createObserveService({ surveyEveryS: 3600, survey: ['u2ed'] });
  const node = await pool.start(broker.url, 'surveyor', { roles: ['mapper'], services: [observe] });
  const first = (await observe.surveyNow()) as SurveyEntry;
  const second = (await observe.surveyNow()) as SurveyEntry;
  expect(first).toMatchObject({ event: 'survey', round: 1, outcome: 'done', cells: ['u2ed'], consensus: 0 });
  expect(second.round).toBe(2);
  const entries: Entry[] = [];
  for await (const e of node.series.read({ event: ['survey', 'intent_outcome'] })) entries.push(e);
  expect(entries.filter((e) => e.event === 'intent_outcome' && e.subject === 'u2ed')).toHaveLength(2);

  const metrics = createMetrics();
  metrics.addNodeSource(node.id, nodeSource(node));
  const server = await startMetricsServer({ metrics, port: 0 });
  try {
    const text = (await get(server.url)).body;
    const at = (outcome: string) => ({ node: 'surveyor', outcome });
    expect(sample(text, 'dameso_survey_rounds_total', at('done'))).toBe(2);
    expect(sample(text, 'dameso_survey_rounds_total', at('skipped'))).toBe(0);
    expect(sample(text, 'dameso_survey_rounds_total', at('failed'))).toBe(0);
    expect(sample(text, 'dameso_survey_last_round_timestamp_seconds', { node: 'surveyor' })).toBe(second.t / 1000);
  } finally {
    await server.close();
  }
});

test('a node with neither the mapper role nor survey cells runs no survey loop', async () => {
  const observe = createObserveService({ surveyEveryS: 1 });
  const node = await pool.start(broker.url, 'requester', { services: [observe] });
  expect(observe.surveyNow()).toBeUndefined();
  expect((node.services.observe as ObserveInstance).surveyStats()).toBeUndefined();
  const metrics = createMetrics();
  metrics.addNodeSource(node.id, nodeSource(node));
  const server = await startMetricsServer({ metrics, port: 0 });
  try {
    expect((await get(server.url)).body).not.toContain('dameso_survey_rounds_total{');
  } finally {
    await server.close();
  }
});

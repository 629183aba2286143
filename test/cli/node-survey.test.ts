/**
 * The survey flags of `dameso node` and `dameso intent want_observations`: bad values are one
 * `[DAMESO_USAGE]` line and exit 64 (a bad file value 78, naming the key), the config keys map to
 * the flags, the defaults are the documented constants, a real node says it surveys in its start
 * line, and the intent command refuses a non-geohash subject before connecting.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { smoothField } from '../../devices/sensors/index.js';
import { parseNodeConfig } from '../../src/cli/node-config.js';
import { parseMinResponders, parseSurveyCells, parseSurveyEvery, SURVEY_HELP } from '../../src/cli/node-survey.js';
import { ConfigError } from '../../src/errors.js';
import {
  cellCentre,
  cellOf,
  DEFAULT_MIN_RESPONDERS,
  DEFAULT_SURVEY_EVERY_S,
  ownObservations,
  plainMedian,
} from '../../src/observe/index.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { finished, printed, runCli, spawnCli } from '../helpers/node-cli.js';
import { NodePool } from '../helpers/node-fixtures.js';
import { createNodeField, type NodeField } from '../helpers/observe-nodes.js';

const pool = new NodePool();

describe('survey flag parsers', () => {
  test('--survey-every: seconds >= 0; --survey: geohash cells; --min-responders: whole >= 1', () => {
    expect(parseSurveyEvery('60')).toBe(60);
    expect(parseSurveyEvery('0')).toBe(0);
    expect(parseSurveyEvery('2.5')).toBe(2.5);
    for (const bad of ['-1', 'x', '', 'Infinity']) expect(() => parseSurveyEvery(bad)).toThrow(/--survey-every/);
    expect(parseSurveyCells('u09tv, u09tw,u09tv')).toEqual(['u09tv', 'u09tw']);
    expect(parseSurveyCells(undefined)).toEqual([]);
    expect(() => parseSurveyCells('u09tv,abc')).toThrow(/--survey: "abc" is not a geohash/);
    expect(parseMinResponders('5')).toBe(5);
    for (const bad of ['0', '-2', '2.5', 'three']) expect(() => parseMinResponders(bad)).toThrow(/--min-responders/);
  });

  test('config keys surveyEveryS, survey and minResponders become the flags; bad values name the key', () => {
    expect(parseNodeConfig('{"surveyEveryS": 30, "survey": ["u09tv", "u09tw"], "minResponders": 4}', 'f')).toEqual({
      surveyEvery: '30',
      survey: 'u09tv,u09tw',
      minResponders: '4',
    });
    expect(parseNodeConfig('{"survey": "u09tv,u09tw"}', 'f').survey).toBe('u09tv,u09tw');
    const bad = (json: string): ConfigError => {
      try {
        parseNodeConfig(json, 'n.json');
      } catch (err) {
        if (err instanceof ConfigError) return err;
        throw err;
      }
      throw new Error('accepted');
    };
    expect(bad('{"surveyEveryS": -5}').message).toMatch(/surveyEveryS.*seconds >= 0.*n\.json/);
    expect(bad('{"survey": ["nope!"]}').message).toMatch(/survey.*not a geohash/);
    expect(bad('{"minResponders": 0}').message).toMatch(/minResponders/);
  });

  test('the help teaches the defaults from the constants', () => {
    expect(DEFAULT_SURVEY_EVERY_S).toBe(60);
    expect(DEFAULT_MIN_RESPONDERS).toBe(3);
    expect(SURVEY_HELP).toContain(`default ${DEFAULT_SURVEY_EVERY_S}`);
    expect(SURVEY_HELP).toContain(`--min-responders (default ${DEFAULT_MIN_RESPONDERS})`);
    expect(SURVEY_HELP).toMatch(/--survey-every 120/);
  });
});

describe('dameso node / intent with survey flags (real processes)', () => {
  test('bad values exit 64 with one [DAMESO_USAGE] line, before anything starts', async () => {
    const dir = await pool.dir();
    const base = ['node', '--id', 'sv', '--data', dir, '--broker', 'mqtt://127.0.0.1:1'];
    const cases: [string[], RegExp][] = [
      [['--survey-every', '-1'], /--survey-every: expected seconds >= 0/],
      [['--survey-every', 'soon'], /--survey-every/],
      [['--survey', 'u09tv,ilo'], /--survey: "ilo" is not a geohash/],
      [['--min-responders', 'x'], /--min-responders/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli([...base, ...args])));
    results.forEach((r, i) => {
      expect(r.code).toBe(64);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(cases[i]?.[1] as RegExp);
      expect(r.stderr).toContain('[DAMESO_USAGE]');
    });
    const intent = await runCli([
      'intent',
      'want_observations',
      '--subject',
      'not-a-cell',
      '--broker',
      'mqtt://127.0.0.1:1',
    ]);
    expect(intent.code).toBe(64);
    expect(intent.stderr).toMatch(/--subject: want_observations needs a geohash.*"not-a-cell".*\[DAMESO_USAGE\]/);
    const none = await runCli(['intent', 'want_observations', '--broker', 'mqtt://127.0.0.1:1']);
    expect(none.code).toBe(64);
  });

  test('a mapper node says it surveys every S s; --survey-every 0 says nothing of it', async () => {
    const start = async (id: string, extra: string[]) => {
      const child = spawnCli([
        'node',
        '--id',
        id,
        '--broker',
        'embedded',
        '--embedded-port',
        '0',
        '--data',
        await pool.dir(),
        '--position',
        '48.8566,2.3522',
        '--simulate',
        'temp',
        '--replicate',
        '0',
        '--log-level',
        'warn',
        ...extra,
      ]);
      const done = finished(child);
      await printed(child, 'online');
      child.kill('SIGTERM');
      return done;
    };
    const [on, off] = await Promise.all([
      start('surveyor', ['--survey-every', '45', '--survey', 'u09tv']),
      start('quiet', ['--survey-every', '0']),
    ]);
    expect(on.code).toBe(0);
    expect(on.stdout).toMatch(/surveys every 45 s \(\+ u09tv\)/);
    expect(off.code).toBe(0);
    expect(off.stdout).not.toMatch(/surveys/);
    await pool.cleanup();
  });
});

describe('dameso intent want_observations (text) against real mapper nodes', () => {
  let broker: BrokerHandle;
  let nf: NodeField;
  beforeAll(async () => {
    broker = await startAedes();
    nf = await createNodeField(broker.url);
  });
  afterAll(async () => {
    await nf?.stopAll();
    await broker?.stop();
  });

  test("prints each responder's value per metric and cell, and the equal-weight median per cell", async () => {
    const cell = cellOf(48.2, 16.37, 7);
    const field = smoothField();
    const values = new Map<string, number>();
    for (const [i, id] of ['ma', 'mb'].entries()) {
      const m = await nf.mapper(id, field, { seed: i + 1, bias: i * 4 });
      m.moveTo(cellCentre(cell));
      m.sensor.sample();
      await m.sensor.stop(); // no more readings on its timer: what it holds now is what it answers
      await m.node.series.flush();
      // What the node answers with, reduced as a requester reduces it: the median of its readings.
      values.set(id, plainMedian((await ownObservations(m.node.series, cell, 64)).map((o) => o.value)));
    }
    const r = await runCli(['intent', 'want_observations', '--subject', cell, '--broker', broker.url]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    for (const [id, v] of values) {
      expect(
        lines.some((l) => l.includes(id) && l.includes('temp') && l.includes(v.toFixed(3)) && l.includes(cell)),
      ).toBe(true);
    }
    const median = ((values.get('ma') as number) + (values.get('mb') as number)) / 2;
    const row = lines.find((l) => l.trimStart().startsWith(cell)) ?? '';
    expect(row).toContain(median.toFixed(3));
    expect(row).toContain('low confidence (n=2 < 3)');
    expect(r.stdout).toMatch(/equal weights/);
  });
});

/**
 * The survey loop in the field, all real: one Aedes broker on a real port, 3 `bt` node processes
 * and 8 mapper processes (`dameso node --simulate temp,noise=0.5 --position <one cell>`, two of
 * them liars with bias=10) surveying every 2 s by themselves; nothing declares for them.
 *
 * - `dameso map --json` on an honest mapper's folder, run while it runs, gives its cell within the
 *   noise of the simulated field's value there;
 * - the liars' reputation replayed from that mapper's series (read-only) is below every honest
 *   mapper's;
 * - a mapper killed with SIGKILL mid-survey (when its round's want_observations reaches the broker)
 *   and restarted on its folder surveys on with a higher round, and its series verifies clean.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { smoothField } from '../../devices/sensors/index.js';
import {
  cellOf,
  type MapCollection,
  replayReputation,
  reputationOf,
  type SurveyEntry,
  WANT_OBSERVATIONS,
} from '../../src/observe/index.js';
import { createTopics, decodeEnvelope } from '../../src/protocol/index.js';
import { connectClient, endAll } from '../helpers/broker-clients.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { runCli } from '../helpers/node-cli.js';
import { type FleetNode, pollFor, readSeries, startNode } from '../helpers/survey-field.js';

const LAT = 48.2;
const LON = 16.37;
const CELL = cellOf(LAT, LON, 7);
/** What the simulated sensors read, before noise and bias (`dameso node --simulate` uses this field). */
const TRUTH = smoothField()(LAT, LON);
const NOISE_SD = 0.5;
const HONEST = ['hon1', 'hon2', 'hon3', 'hon4', 'hon5', 'hon6'];
const LIARS = ['liar1', 'liar2'];
const READER = 'hon1';
const VICTIM = 'hon2';

describe('8 surveying mapper processes (2 liars) and 3 bt processes on one broker', () => {
  let broker: BrokerHandle;
  let root: string;
  const nodes = new Map<string, FleetNode>();

  const mapperArgs = (id: string): string[] => [
    '--broker',
    broker.url,
    '--position',
    `${LAT},${LON}`,
    '--simulate',
    LIARS.includes(id) ? `temp,bias=10,noise=${NOISE_SD}` : `temp,noise=${NOISE_SD}`,
    '--survey-every',
    '2',
    '--replicate',
    '0',
  ];

  beforeAll(async () => {
    broker = await startAedes();
    root = await mkdtemp(path.join(os.tmpdir(), 'dameso-survey-field-'));
    const bts = ['bt1', 'bt2', 'bt3'].map((id) =>
      startNode(id, path.join(root, id), ['--roles', 'bt', '--broker', broker.url, '--replicate', '0']),
    );
    const mappers = [...HONEST, ...LIARS].map((id) => startNode(id, path.join(root, id), mapperArgs(id)));
    for (const n of await Promise.all([...bts, ...mappers])) nodes.set(n.id, n);
  }, 60_000);

  afterAll(async () => {
    for (const n of nodes.values()) n.child.kill('SIGKILL');
    await Promise.all([...nodes.values()].map((n) => n.done));
    await broker?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  const dirOf = (id: string): string => (nodes.get(id) as FleetNode).dir;

  test('dameso map on a running honest mapper shows its cell within the noise of the field', async () => {
    // The first rounds may run before every peer is online or has read: wait for a trusted one.
    const feature = await pollFor(
      `a consensus of ${CELL} from at least 5 responders in ${READER}'s map`,
      async () => {
        const r = await runCli(['map', '--data', dirOf(READER), '--json']);
        if (r.code !== 0) throw new Error(r.stderr.trim());
        const f = (JSON.parse(r.stdout) as MapCollection).features.find((x) => x.properties.cell === CELL);
        return f && f.properties.n >= 5 ? f : undefined;
      },
      30_000,
      500,
    );
    expect(feature.properties.lowConfidence).toBe(false);
    expect(feature.properties.metric).toBe('temp');
    expect(Math.abs(feature.properties.value - TRUTH)).toBeLessThanOrEqual(3 * NOISE_SD);
    // Every cell the mapper surveyed is in the map.
    const surveys = (await readSeries(dirOf(READER), 'survey')) as SurveyEntry[];
    expect(surveys.filter((s) => s.outcome === 'done').flatMap((s) => s.cells)).toContain(CELL);
    expect(Math.max(...surveys.map((s) => s.responders))).toBeGreaterThanOrEqual(5);
    // Its consensus went to the storage nodes as chunks (K = 3 bt nodes online).
    const pushed = await readSeries(dirOf(READER), 'consensus_chunk');
    expect(pushed.some((c) => c.met === true && (c.holders as string[]).length === 3)).toBe(true);
  }, 40_000);

  test("the liars' reputation, replayed from the honest mapper's series, is below every honest mapper's", async () => {
    const scores = await pollFor(
      'the liars below every honest mapper',
      async () => {
        const rep = replayReputation(await readSeries(dirOf(READER)));
        const of = (ids: string[]) => ids.filter((id) => id !== READER).map((id) => reputationOf(rep, id));
        const s = { liars: of(LIARS), honest: of(HONEST) };
        return Math.max(...s.liars) < Math.min(...s.honest) ? s : undefined;
      },
      20_000,
      500,
    );
    expect(Math.max(...scores.liars)).toBeLessThan(0.5);
    expect(Math.min(...scores.honest)).toBeGreaterThan(0.5);
  }, 30_000);

  test('a mapper killed with SIGKILL and restarted on its folder surveys on; its series verifies clean', async () => {
    const victim = nodes.get(VICTIM) as FleetNode;
    const before = await pollFor(
      `a survey round by ${VICTIM}`,
      async () => {
        const s = (await readSeries(victim.dir, 'survey')) as SurveyEntry[];
        return s.length > 0 ? s : undefined;
      },
      15_000,
    );
    // Killed mid-survey: the moment its want_observations (a survey round's declare) is on the wire,
    // before the replies, consensus and survey entry of that round.
    const tap = await connectClient(broker.url);
    const declared = new Promise<void>((resolve) => {
      tap.on('message', (_topic, payload) => {
        const env = decodeEnvelope(payload) as { from?: unknown };
        if (env.from === VICTIM) resolve();
      });
    });
    await tap.subscribeAsync(createTopics().intent(WANT_OBSERVATIONS), { qos: 0 });
    await declared;
    victim.child.kill('SIGKILL');
    await endAll(tap);
    expect((await victim.done).code).toBe(null);
    const lastRound = Math.max(...((await readSeries(victim.dir, 'survey')) as SurveyEntry[]).map((s) => s.round));
    expect(lastRound).toBeGreaterThanOrEqual(Math.max(...before.map((s) => s.round)));
    const again = await startNode(VICTIM, victim.dir, mapperArgs(VICTIM));
    nodes.set(VICTIM, again);
    const resumed = await pollFor(
      `${VICTIM} surveying again after round ${lastRound}`,
      async () => {
        const s = (await readSeries(again.dir, 'survey')) as SurveyEntry[];
        return s.find((x) => x.round > lastRound);
      },
      15_000,
    );
    // Numbered on from the series: no round repeated, none skipped over.
    const all = (await readSeries(again.dir, 'survey')) as SurveyEntry[];
    const rounds = all.map((s) => s.round);
    expect(rounds).toEqual(rounds.map((_, i) => (rounds[0] as number) + i));
    expect(resumed.round).toBeGreaterThan(lastRound);
    const verify = await runCli(['series', 'verify', '--dir', path.join(again.dir, 'series'), '--json']);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ sound: true, corruptRecords: 0, missingSeqs: 0 });
  }, 40_000);
});

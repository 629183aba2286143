/**
 * 20 real mapper nodes (4 liars biased by +10) and a requester on one real Aedes, in one process:
 * observations go into each mapper's series, `want_observations` fans out through the broker, the
 * requester writes consensus and derives reputation from its own series. Then the requester's
 * series is replayed from disk: same reputation, same consensus.
 */

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smoothField } from '../../devices/sensors/index.js';
import {
  cellCentre,
  cellOf,
  plainMean,
  REPUTATION_VIEW,
  type ReputationState,
  replayConsensus,
  replayReputation,
  reputationOf,
} from '../../src/observe/index.js';
import { createSeries } from '../../src/series/index.js';
import type { Entry } from '../../src/series/types.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { createNodeField, type MapperNode, type NodeField } from '../helpers/observe-nodes.js';

const field = smoothField({ base: 20, amplitude: 5, wavelengthDeg: 0.02 });
const CELLS = [cellOf(48.2, 16.37, 7), cellOf(48.2015, 16.3715, 7), cellOf(48.203, 16.373, 7)];
const ROUNDS = 3;

describe('20 mapper nodes, 4 liars, one real Aedes', () => {
  let broker: BrokerHandle;
  let nf: NodeField;
  let mappers: MapperNode[] = [];
  const liars = new Set(['m00', 'm05', 'm10', 'm15']);
  const rounds: { cell: string; truth: number; median: number; mean: number; responders: number }[][] = [];
  const repByRound: { liarsMax: number; honestMin: number }[] = [];
  let requester: Awaited<ReturnType<NodeField['requester']>>;

  beforeAll(async () => {
    broker = await startAedes();
    nf = await createNodeField(broker.url);
    mappers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const id = `m${String(i).padStart(2, '0')}`;
        return nf.mapper(id, field, { bias: liars.has(id) ? 10 : 0, seed: 100 + i });
      }),
    );
    requester = await nf.requester('req');
    for (let r = 0; r < ROUNDS; r++) {
      // Each mapper walks the cells and takes three readings in each (observer → series).
      for (const m of mappers) {
        for (const cell of CELLS) {
          m.moveTo(cellCentre(cell));
          for (let k = 0; k < 3; k++) m.sensor.sample();
        }
      }
      await Promise.all(mappers.map((m) => m.node.series.flush()));
      const row = [];
      for (const cell of CELLS) {
        const res = await requester.observe.observe(cell, { metric: 'temp' });
        const c = res.consensus[0];
        if (!c) throw new Error(`no consensus for ${cell}: ${JSON.stringify(res.outcome.silence)}`);
        const c0 = cellCentre(cell);
        row.push({
          cell,
          truth: field(c0.lat, c0.lon),
          median: c.value,
          mean: plainMean(Object.values(c.values)),
          responders: c.responders.length,
        });
      }
      rounds.push(row);
      const rep = requester.node.series.view<ReputationState>(REPUTATION_VIEW);
      const of = (liar: boolean) => mappers.filter((m) => liars.has(m.id) === liar).map((m) => reputationOf(rep, m.id));
      repByRound.push({ liarsMax: Math.max(...of(true)), honestMin: Math.min(...of(false)) });
    }
  }, 60_000);

  afterAll(async () => {
    await nf?.stopAll();
    await broker?.stop();
  });

  it('every mapper answered with data, and observations carry the simulated fix (quality 8)', async () => {
    for (const row of rounds) for (const x of row) expect(x.responders).toBe(20);
    const obs = await mappers[0]?.node.series.tail(1, { event: 'observation' });
    expect(obs?.[0]).toMatchObject({ event: 'observation', metric: 'temp', fix: 8 });
    expect(CELLS).toContain(obs?.[0]?.cell);
  });

  it('the robust consensus stays near ground truth while the plain mean is pulled away', () => {
    for (const row of rounds) {
      for (const x of row) {
        expect(Math.abs(x.median - x.truth)).toBeLessThan(0.75);
        expect(x.mean - x.truth).toBeGreaterThan(1.2); // 4/20 × 10 = +2 expected
      }
    }
  });

  it("liars' reputation falls below every honest node's, from the first round on, and keeps falling", () => {
    expect(repByRound).toHaveLength(ROUNDS);
    for (const r of repByRound) expect(r.liarsMax).toBeLessThan(r.honestMin);
    for (let i = 1; i < ROUNDS; i++) {
      expect(repByRound[i]?.liarsMax).toBeLessThanOrEqual(repByRound[i - 1]?.liarsMax as number);
    }
    const rep = requester.node.series.view<ReputationState>(REPUTATION_VIEW);
    const honest = mappers.filter((m) => !liars.has(m.id)).map((m) => reputationOf(rep, m.id));
    const lying = mappers.filter((m) => liars.has(m.id)).map((m) => reputationOf(rep, m.id));
    expect(Math.max(...lying)).toBeLessThan(Math.min(...honest));
    expect(Math.max(...lying)).toBeLessThan(0.2);
    expect(requester.observe.reputation().m01).toBe(reputationOf(rep, 'm01'));
  });

  it('one intent on a geohash prefix maps every cell inside it (one consensus per cell)', async () => {
    let prefix = CELLS[0] as string;
    while (!CELLS.every((c) => c.startsWith(prefix))) prefix = prefix.slice(0, -1);
    expect(prefix.length).toBeGreaterThan(0);
    expect(prefix.length).toBeLessThan(7);
    const res = await requester.observe.observe(prefix, { metric: 'temp' });
    expect(res.consensus.map((c) => c.cell)).toEqual([...CELLS].sort());
    for (const c of res.consensus) {
      const c0 = cellCentre(c.cell);
      expect(c.responders).toHaveLength(20);
      expect(Math.abs(c.value - field(c0.lat, c0.lon))).toBeLessThan(0.75);
    }
    const pooled = await requester.observe.observe(prefix, { metric: 'temp', groupBy: 'subject' });
    expect(pooled.consensus.map((c) => c.cell)).toEqual([prefix]);
  });

  it('replaying the requester series from disk gives the same reputation and consensus', async () => {
    const live = structuredClone(requester.node.series.view<ReputationState>(REPUTATION_VIEW));
    await requester.node.series.flush();
    const copy = createSeries({ dir: join(nf.root, 'req', 'series'), readOnly: true });
    await copy.open();
    const entries: Entry[] = [];
    for await (const e of copy.read()) entries.push(e);
    await copy.close();
    expect(entries.filter((e) => e.event === 'intent_outcome').length).toBeGreaterThanOrEqual(ROUNDS * CELLS.length);
    expect(replayReputation(entries)).toEqual(live);
    const replayed = replayConsensus(entries);
    expect(replayed).toHaveLength(ROUNDS * CELLS.length + CELLS.length + 1);
    expect(replayed.every((r) => r.same)).toBe(true);
  });
});

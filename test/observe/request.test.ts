/**
 * The requester against real nodes on a real Aedes: good mappers, one that answers YES with
 * garbage, one with nothing in the cell (silent), and a cell nobody observed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smoothField } from '../../devices/sensors/index.js';
import type { IntentHandler } from '../../src/intent/types.js';
import {
  cellCentre,
  cellOf,
  createObserveService,
  REP_MALFORMED_WEIGHT,
  REP_SILENCE_WEIGHT,
  REPUTATION_VIEW,
  type ReputationState,
  type RequestResult,
  replayReputation,
} from '../../src/observe/index.js';
import type { Entry } from '../../src/series/types.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { createNodeField, type NodeField } from '../helpers/observe-nodes.js';

describe('requestConsensus with real nodes', () => {
  let broker: BrokerHandle;
  let nf: NodeField;
  let res: RequestResult;
  let empty: RequestResult;
  let req: Awaited<ReturnType<NodeField['requester']>>;
  const cell = cellOf(48.2, 16.37, 7);
  const GOOD = ['good1', 'good2', 'good3', 'good4', 'good5'];
  // Generous: the idle mapper is silent, so each intent runs to its deadline on a loaded machine.
  const DEADLINE_MS = 3000;

  beforeAll(async () => {
    broker = await startAedes();
    nf = await createNodeField(broker.url);
    const field = smoothField();
    for (const id of GOOD) {
      const m = await nf.mapper(id, field, { seed: GOOD.indexOf(id) + 1 });
      m.moveTo(cellCentre(cell));
      for (let k = 0; k < 3; k++) m.sensor.sample();
      await m.node.series.flush();
    }
    await nf.mapper('idle', field, { seed: 9 }); // observed nothing: silent
    const garbage = createObserveService({
      wrapHandler: (h): IntentHandler => ({
        kind: h.kind,
        role: h.role,
        handle: () => ({ r: 'yes', data: { cell, obs: 'nope' } }),
      }),
    });
    await nf.start('garbage', { roles: ['mapper'], services: [garbage] });
    req = await nf.requester('req');
    res = await req.observe.observe(cell, { deadlineMs: DEADLINE_MS });
    empty = await req.observe.observe(cellOf(-10, -10, 7), { deadlineMs: DEADLINE_MS });
  }, 60_000);

  afterAll(async () => {
    await nf?.stopAll();
    await broker?.stop();
  });

  it('classifies: five YES with data, one YES with garbage (dropped and recorded), one silent', async () => {
    expect(res.outcome.yes.map((r) => r.envelope.from).sort()).toEqual(['garbage', ...GOOD]);
    expect(res.outcome.silence).toEqual(['idle']);
    expect(res.verdicts).toEqual({ garbage: 'malformed', ...Object.fromEntries(GOOD.map((g) => [g, 'ok'])) });
    expect(res.consensus).toHaveLength(1);
    expect(res.consensus[0]?.responders).toEqual(GOOD);
    const rejected = await req.node.series.tail(5, { event: 'observation_rejected' });
    const rej = rejected.find((e) => e.intent === res.outcome.id);
    expect(rej).toMatchObject({ from: 'garbage', cell, reason: 'malformed', intent: res.outcome.id });
  });

  it('a cell nobody observed: every mapper silent, no consensus written', async () => {
    expect(empty.consensus).toHaveLength(0);
    expect(empty.outcome.silence.sort()).toEqual([...GOOD, 'idle']);
    const tail = await req.node.series.tail(5, { event: 'consensus' });
    expect(tail).toHaveLength(1);
  });

  it('the requester derives reputation from its series: agreement up, silence mildly down, garbage down', async () => {
    const rep = req.observe.reputation();
    const state = req.node.series.view<ReputationState>(REPUTATION_VIEW);
    // Each good mapper: agreed (+1) or not (−1) once, and silent (−0.1) on the empty cell.
    for (const g of GOOD) {
      expect(state.nodes[g]?.neg).toBeCloseTo(REP_SILENCE_WEIGHT + (state.nodes[g]?.pos === 1 ? 0 : 1), 12);
    }
    expect(GOOD.filter((g) => state.nodes[g]?.pos === 1).length).toBeGreaterThanOrEqual(4);
    expect(state.nodes.idle).toEqual({ pos: 0, neg: 2 * REP_SILENCE_WEIGHT });
    // The garbage mapper answers YES with junk for every cell: rejected and recorded twice.
    expect(state.nodes.garbage).toEqual({ pos: 0, neg: 2 * REP_MALFORMED_WEIGHT });
    expect(rep.garbage).toBe(0);
    // And the live view is the replayed function of the requester's series.
    const entries: Entry[] = [];
    for await (const e of req.node.series.read()) entries.push(e);
    expect(replayReputation(entries)).toEqual(state);
  });

  it('rejects a subject that is not a geohash before declaring', async () => {
    await expect(req.observe.observe('not-a-cell')).rejects.toMatchObject({ code: 'DAMESO_BAD_CELL' });
  });
});

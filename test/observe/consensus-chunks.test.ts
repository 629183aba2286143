/**
 * Consensus chunks travel: the requester pushes each round's consensus entries as one chunk to K
 * storage nodes (the chunk layer's `store_chunk`), who announce it with retained `have` records;
 * any node can then fetch it, verified against its id. Real Aedes, real nodes, one process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smoothField } from '../../devices/sensors/index.js';
import { createChunksService } from '../../src/chunks/index.js';
import { cellCentre, cellOf, type RequestResult } from '../../src/observe/index.js';
import { decodeChunk } from '../../src/series/index.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { createNodeField, type NodeField } from '../helpers/observe-nodes.js';

describe('consensus chunks pushed to storage nodes', () => {
  let broker: BrokerHandle;
  let nf: NodeField;
  const chunks = createChunksService({ replicas: 3, deadlineMs: 3000 });
  const reader = createChunksService({ fetchDeadlineMs: 3000 });
  let result: RequestResult;
  const cell = cellOf(48.2, 16.37, 7);

  beforeAll(async () => {
    broker = await startAedes();
    nf = await createNodeField(broker.url);
    for (let i = 0; i < 4; i++) await nf.start(`bt${i}`, { roles: ['bt'], services: [createChunksService()] });
    const field = smoothField();
    for (let i = 0; i < 5; i++) {
      const m = await nf.mapper(`m${i}`, field, { seed: i + 1 });
      m.moveTo(cellCentre(cell));
      for (let k = 0; k < 3; k++) m.sensor.sample();
      await m.node.series.flush();
    }
    const req = await nf.requester('req', { chunks });
    result = await req.observe.observe(cell);
    await nf.start('reader', { roles: [], services: [reader] });
  }, 60_000);

  afterAll(async () => {
    await nf?.stopAll();
    await broker?.stop();
  });

  it('pushes the consensus entries as one chunk to K = 3 holders and records it', async () => {
    expect(result.consensus).toHaveLength(1);
    expect(result.chunk?.met).toBe(true);
    expect(result.chunk?.holders).toHaveLength(3);
    const [rec] = await nf.requesterSeriesTail('consensus_chunk');
    expect(rec).toMatchObject({ event: 'consensus_chunk', id: result.chunk?.id, cell, met: true });
  });

  it('holders announce it; another node fetches it, verified, and finds the consensus inside', async () => {
    const id = result.chunk?.id as string;
    const want = new Set(result.chunk?.holders ?? []);
    // Discovery is the chunk layer's (retained `have` records, which Aedes may still be streaming
    // after SUBACK): we check that what it finds are holders the push reported, not how many.
    const seen = (await reader.whoHas(id)).map((h) => h.node);
    expect(seen.length).toBeGreaterThan(0);
    for (const n of seen) expect(want.has(n)).toBe(true);
    const got = await reader.fetch(id);
    const chunk = decodeChunk(got.bytes);
    expect(chunk.node).toBe('req');
    expect(chunk.events).toHaveLength(1);
    expect(chunk.events[0]).toMatchObject({ event: 'consensus', cell, value: result.consensus[0]?.value });
  });
});

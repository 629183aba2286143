/**
 * A field of real mapper nodes for the observe tests: each node has its own data dir, a simulated
 * sensor (liars biased) handed to its observe service, all against one real broker in one process.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSimulatedSensor, type Field, type SimulatedSensor } from '../../devices/sensors/index.js';
import type { ChunksService } from '../../src/chunks/index.js';
import { silentLogger } from '../../src/log.js';
import type { Service } from '../../src/node/types.js';
import { createNode, type DamesoNode } from '../../src/node.js';
import { createObserveService, type ObserveService } from '../../src/observe/index.js';
import type { Entry } from '../../src/series/types.js';

export interface MapperNode {
  id: string;
  node: DamesoNode;
  observe: ObserveService;
  sensor: SimulatedSensor;
  /** Move the sensor (the next samples are taken there). */
  moveTo(p: { lat: number; lon: number }): void;
}

export interface NodeField {
  root: string;
  mapper(id: string, field: Field, o: { bias?: number; seed: number }): Promise<MapperNode>;
  requester(
    id: string,
    extra?: { chunks?: ChunksService; roles?: string[] },
  ): Promise<{ node: DamesoNode; observe: ObserveService }>;
  start(id: string, o: { roles: string[]; services: Service[] }): Promise<DamesoNode>;
  /** The newest entries of `event` in the last requester's series. */
  requesterSeriesTail(event: string, n?: number): Promise<Entry[]>;
  stopAll(): Promise<void>;
}

export async function createNodeField(brokerUrl: string): Promise<NodeField> {
  const root = await mkdtemp(join(tmpdir(), 'dameso-observe-field-'));
  const nodes: DamesoNode[] = [];
  let lastRequester: DamesoNode | undefined;
  const start = async (id: string, o: { roles: string[]; services: Service[] }): Promise<DamesoNode> => {
    const node = createNode({
      id,
      roles: o.roles,
      broker: brokerUrl,
      dataDir: join(root, id),
      services: o.services,
      durability: 'none',
      rosterQuietMs: 50,
      log: silentLogger,
    });
    nodes.push(node);
    await node.start();
    return node;
  };
  return {
    root,
    start,
    async mapper(id, field, o) {
      let where = { lat: 0, lon: 0 };
      const sensor = createSimulatedSensor({
        field,
        position: () => where,
        metric: 'temp',
        noiseSigma: 1,
        bias: o.bias ?? 0,
        seed: o.seed,
      });
      const observe = createObserveService({ drivers: [sensor] });
      const node = await start(id, { roles: ['mapper'], services: [observe] });
      return {
        id,
        node,
        observe,
        sensor,
        moveTo(p) {
          where = p;
        },
      };
    },
    async requester(id, extra = {}) {
      const observe = createObserveService({ deadlineMs: 3000, ...(extra.chunks ? { chunks: extra.chunks } : {}) });
      const services: Service[] = extra.chunks ? [extra.chunks, observe] : [observe];
      const node = await start(id, { roles: extra.roles ?? [], services });
      lastRequester = node;
      return { node, observe };
    },
    async requesterSeriesTail(event, n = 1) {
      if (!lastRequester) throw new Error('no requester started');
      return lastRequester.series.tail(n, { event });
    },
    async stopAll() {
      await Promise.all(nodes.splice(0).map((n) => n.stop().catch(() => undefined)));
      await rm(root, { recursive: true, force: true });
    },
  };
}

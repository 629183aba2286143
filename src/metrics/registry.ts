/**
 * A per-process metrics registry: one prom-client `Registry` (never the global default, so several
 * nodes or brokers in one process share it without a duplicate-metric error), one metric per family
 * shared by every source, and sources that READ the parts' existing `stats()` at scrape time.
 *
 * A scrape reads every source once (`snapshot`), then each family's `collect()` copies its samples
 * into its prom-client metric; nothing is counted on the hot path and nothing runs between scrapes
 * (except prom-client's default metrics: an event-loop delay histogram and a GC observer).
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { BROKER_FAMILIES, type Family, NODE_FAMILIES } from './families.js';

export type Labels = Record<string, string>;

/** Where a source writes its samples; `name` must be a family of the source's group. */
export type Sink = (name: string, value: number, labels?: Labels) => void;

/** Reads one node's or broker's stats into the sink (called once per scrape). */
export type Source = (sink: Sink) => void;

export interface MetricsOptions {
  /** prom-client's default process metrics (RSS, CPU, event-loop lag, heap, GC). Default true. */
  processMetrics?: boolean;
}

export interface Metrics {
  readonly registry: Registry;
  readonly contentType: string;
  /** Adds a source labelled `node=<id>`; returns its removal. Throws if the id is already there. */
  addNodeSource(id: string, source: Source): () => void;
  /** Adds a source labelled `broker=<name>`; returns its removal. */
  addBrokerSource(name: string, source: Source): () => void;
  /** The Prometheus text exposition, every source read once. */
  text(): Promise<string>;
}

type Group = 'node' | 'broker';
type Sample = [labels: Labels, value: number];

const GROUPS: Record<Group, Readonly<Record<string, Family>>> = { node: NODE_FAMILIES, broker: BROKER_FAMILIES };

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const sources: Record<Group, Map<string, Source>> = { node: new Map(), broker: new Map() };
  const registered = new Set<Group>();
  /** Samples by family for the scrape in progress; undefined between scrapes. */
  let current: Map<string, Sample[]> | undefined;

  const snapshot = (): Map<string, Sample[]> => {
    const out = new Map<string, Sample[]>();
    for (const group of ['node', 'broker'] as const) {
      const families = GROUPS[group];
      for (const [id, source] of sources[group]) {
        source((name, value, labels) => {
          if (!(name in families)) throw new Error(`metrics: ${name} is not a ${group} family`);
          const list = out.get(name);
          const entry: Sample = [{ [group]: id, ...labels }, value];
          if (list === undefined) out.set(name, [entry]);
          else list.push(entry);
        });
      }
    }
    return out;
  };

  const register = (group: Group): void => {
    if (registered.has(group)) return;
    registered.add(group);
    for (const [name, f] of Object.entries(GROUPS[group])) {
      const labelNames = [group, ...(f.labels ?? [])];
      // A direct `registry.metrics()` (not through text()) still works: it reads the sources per family.
      const samples = () => (current ?? snapshot()).get(name) ?? [];
      if (f.type === 'counter') {
        new Counter({
          name,
          help: f.help,
          labelNames,
          registers: [registry],
          collect() {
            this.reset();
            for (const [labels, value] of samples()) this.inc(labels, value);
          },
        });
      } else {
        new Gauge({
          name,
          help: f.help,
          labelNames,
          registers: [registry],
          collect() {
            this.reset();
            for (const [labels, value] of samples()) this.set(labels, value);
          },
        });
      }
    }
  };

  const add = (group: Group, id: string, source: Source): (() => void) => {
    const map = sources[group];
    if (map.has(id)) throw new Error(`metrics: a ${group} "${id}" is already registered`);
    register(group);
    map.set(id, source);
    return () => {
      if (map.get(id) === source) map.delete(id);
    };
  };

  return {
    registry,
    contentType: registry.contentType,
    addNodeSource: (id, source) => add('node', id, source),
    addBrokerSource: (name, source) => add('broker', name, source),
    text() {
      // Every family's collect() runs synchronously inside metrics(), before its first await.
      current = snapshot();
      try {
        return registry.metrics();
      } finally {
        current = undefined;
      }
    },
  };
}

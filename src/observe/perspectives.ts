/**
 * From replies to perspectives: each responder's YES data is checked (wire input is not trusted:
 * malformed data is rejected and counted, never crashes), then reduced to one value per metric —
 * the plain median of that node's own observations in the cell — so a node counts once per
 * metric however many readings it sent. The count and spread of those readings go with it: the
 * reputation judges a value of few readings with a band as wide as its own sampling noise.
 */
import * as z from 'zod';
import type { Perspective } from './consensus.js';
import { plainMedian } from './consensus.js';
import { MAX_OBSERVATIONS_PER_ANSWER } from './constants.js';

const WireObservationSchema = z.object({
  cell: z.string().max(12),
  metric: z.string().min(1).max(64),
  value: z.number().finite(),
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  fix: z.number(),
  t: z.number(),
});

const DataSchema = z.object({
  cell: z.string().max(12),
  obs: z
    .array(WireObservationSchema)
    .min(1)
    .max(MAX_OBSERVATIONS_PER_ANSWER * 4),
});

export type ReplyVerdict = 'ok' | 'malformed' | 'wrong_cell';

/** One consensus to compute: a cell, a metric and one perspective per responder. */
export interface PerspectiveGroup {
  cell: string;
  metric: string;
  perspectives: Perspective[];
}

/** One responder's perspective: the median of its readings, their count and sample sd. */
function perspectiveOf(node: string, vs: readonly number[]): Perspective {
  const p: Perspective = { node, value: plainMedian(vs), readings: vs.length };
  if (vs.length >= 2) {
    let mean = 0;
    for (const v of vs) mean += v;
    mean /= vs.length;
    let ss = 0;
    for (const v of vs) ss += (v - mean) ** 2;
    p.readingSd = Math.sqrt(ss / (vs.length - 1));
  }
  return p;
}

/**
 * Perspectives from `(node, data)` pairs for the subject `cell` (a cell or a prefix). Observations
 * outside it are dropped; a reply with malformed data is dropped whole; `verdicts` says what
 * happened to each. `groupBy: 'cell'` (default) makes one group per observation cell and metric, so
 * one intent on a prefix maps every cell inside it; `'subject'` pools the prefix into one group
 * per metric.
 */
export function perspectivesFrom(
  replies: readonly { node: string; data: unknown }[],
  cell: string,
  options: { metric?: string; groupBy?: 'cell' | 'subject' } = {},
): { groups: PerspectiveGroup[]; verdicts: Record<string, ReplyVerdict> } {
  const groups = new Map<string, PerspectiveGroup>();
  const verdicts: Record<string, ReplyVerdict> = {};
  const bySubject = options.groupBy === 'subject';
  const sorted = [...replies].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  for (const { node, data } of sorted) {
    if (verdicts[node] !== undefined) continue; // one perspective per node
    const parsed = DataSchema.safeParse(data);
    if (!parsed.success) {
      verdicts[node] = 'malformed';
      continue;
    }
    const values = new Map<string, { cell: string; metric: string; vs: number[] }>();
    for (const o of parsed.data.obs) {
      if (!o.cell.startsWith(cell)) continue;
      if (options.metric !== undefined && o.metric !== options.metric) continue;
      const at = bySubject ? cell : o.cell;
      const key = `${at}\u0000${o.metric}`;
      const g = values.get(key) ?? { cell: at, metric: o.metric, vs: [] };
      g.vs.push(o.value);
      values.set(key, g);
    }
    if (values.size === 0) {
      verdicts[node] = 'wrong_cell';
      continue;
    }
    verdicts[node] = 'ok';
    for (const [key, g] of values) {
      const group = groups.get(key) ?? { cell: g.cell, metric: g.metric, perspectives: [] };
      group.perspectives.push(perspectiveOf(node, g.vs));
      groups.set(key, group);
    }
  }
  const out = [...groups.values()].sort((a, b) =>
    a.cell === b.cell ? (a.metric < b.metric ? -1 : 1) : a.cell < b.cell ? -1 : 1,
  );
  return { groups: out, verdicts };
}

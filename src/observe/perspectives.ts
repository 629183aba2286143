/**
 * From replies to perspectives: each responder's YES data is checked (wire input is not trusted:
 * malformed data is rejected and counted, never crashes), then reduced to one value per metric —
 * the plain median of that node's own observations in the cell — so a node counts once per
 * metric however many readings it sent.
 */
import { z } from 'zod';
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

/**
 * Per-metric perspectives from `(node, data)` pairs for `cell`. Observations outside the cell are
 * dropped; a reply with malformed data is dropped whole. `verdicts` says what happened to each.
 */
export function perspectivesFrom(
  replies: readonly { node: string; data: unknown }[],
  cell: string,
  metric?: string,
): { byMetric: Map<string, Perspective[]>; verdicts: Record<string, ReplyVerdict> } {
  const byMetric = new Map<string, Perspective[]>();
  const verdicts: Record<string, ReplyVerdict> = {};
  const sorted = [...replies].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  for (const { node, data } of sorted) {
    if (verdicts[node] !== undefined) continue; // one perspective per node
    const parsed = DataSchema.safeParse(data);
    if (!parsed.success) {
      verdicts[node] = 'malformed';
      continue;
    }
    const values = new Map<string, number[]>();
    for (const o of parsed.data.obs) {
      if (!o.cell.startsWith(cell)) continue;
      if (metric !== undefined && o.metric !== metric) continue;
      const list = values.get(o.metric) ?? [];
      list.push(o.value);
      values.set(o.metric, list);
    }
    if (values.size === 0) {
      verdicts[node] = 'wrong_cell';
      continue;
    }
    verdicts[node] = 'ok';
    for (const [m, vs] of values) {
      const list = byMetric.get(m) ?? [];
      list.push({ node, value: plainMedian(vs) });
      byMetric.set(m, list);
    }
  }
  return { byMetric, verdicts };
}

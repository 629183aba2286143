/**
 * `dameso intent want_observations` in text mode: the values each responder sent (its median per
 * cell and metric, the perspective a consensus takes) and the consensus per cell and metric,
 * computed the way a node's survey computes it (`consensusInput`, weighted median) but with equal
 * weights: the short-lived node has no series history, so every responder holds the prior
 * reputation. The subject is checked before anything is sent.
 */
import { DamesoError } from '../errors.js';
import type { Outcome } from '../intent/index.js';
import {
  consensusInput,
  DEFAULT_MAX_WEIGHT_SHARE,
  DEFAULT_MIN_RESPONDERS,
  isCell,
  perspectivesFrom,
  reputationView,
  WANT_OBSERVATIONS,
} from '../observe/index.js';

/** A `want_observations` subject must be a geohash cell or prefix: refused before connecting. */
export function checkObservationsSubject(kind: string, subject: string | undefined): void {
  if (kind !== WANT_OBSERVATIONS) return;
  if (subject === undefined || !isCell(subject)) {
    throw new DamesoError(
      'DAMESO_USAGE',
      `--subject: want_observations needs a geohash cell or prefix (1-12 chars of 0-9 b-h j k m n p-z, ` +
        `e.g. --subject u09tv), got ${subject === undefined ? 'none' : `"${subject}"`}`,
    );
  }
}

const num = (v: number): string => v.toFixed(3);

/** The values and the equal-weight consensus of a `want_observations` outcome, as text lines. */
export function observationsText(outcome: Outcome, minResponders = DEFAULT_MIN_RESPONDERS): string {
  const subject = outcome.subject ?? '';
  const replies = outcome.yes.map((r) => ({ node: r.envelope.from, data: r.envelope.data }));
  const { groups, verdicts } = perspectivesFrom(replies, subject);
  const lines = ["values (each responder's median per cell and metric):"];
  lines.push(`  ${'node'.padEnd(20)} ${'metric'.padEnd(12)} ${'value'.padStart(12)}  cell`);
  for (const g of groups) {
    for (const p of g.perspectives) {
      lines.push(`  ${p.node.padEnd(20)} ${g.metric.padEnd(12)} ${num(p.value).padStart(12)}  ${g.cell}`);
    }
  }
  const dropped = Object.entries(verdicts).filter(([, v]) => v !== 'ok');
  for (const [node, v] of dropped) lines.push(`  ${node.padEnd(20)} dropped: ${v.replace('_', ' ')}`);
  if (groups.length === 0) lines.push('  (no values)');
  lines.push('consensus (weighted median, equal weights: this short-lived node holds no reputation):');
  for (const g of groups) {
    const c = consensusInput(g.cell, g.metric, g.perspectives, reputationView.initial(), 0, {
      method: 'median',
      maxShare: DEFAULT_MAX_WEIGHT_SHARE,
      minResponders,
    });
    const n = c.responders.length;
    const tail = c.low_confidence ? `low confidence (n=${n} < ${minResponders})` : `±${num(c.spread)} n=${n}`;
    lines.push(`  ${g.cell.padEnd(12)} ${g.metric.padEnd(12)} ${num(c.value).padStart(12)}  ${tail}`);
  }
  if (groups.length === 0) lines.push('  (none: nobody answered with data)');
  return lines.join('\n');
}

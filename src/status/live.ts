/**
 * A running node's status (`GET /status` on its metrics port) and health (`GET /healthz`): the
 * same fields as a read of its data folder, with the live connection, roster and limiter values.
 */
import type { LimiterGate } from '../limiters/index.js';
import type { DamesoNode } from '../node/types.js';
import type { LimiterValues } from '../protocol/types.js';
import { recordedParts } from './parts.js';
import type { NodeStatus } from './types.js';
import { wearOfSeries } from './wear-node.js';

/** What a status and a health check read of a node: the part of `DamesoNode` they use. */
export type StatusNode = Pick<DamesoNode, 'id' | 'roles' | 'series' | 'transport' | 'roster' | 'gate'> & {
  /** Set once a series write or fsync failed: nothing more is written until the node restarts. */
  readonly seriesFailure?: Error | undefined;
};

export async function statusOfNode(node: StatusNode): Promise<NodeStatus> {
  const c = node.transport.connection();
  const r = node.roster.stats();
  // Live: the node's status view only; a search per request would read its disk each time.
  const parts = await recordedParts(node.series, node.series.stats().budgetBytes, limiterValues(node), []);
  return {
    node: node.id,
    roles: [...node.roles],
    source: 'live',
    pid: process.pid,
    session: node.transport.session,
    broker: c.broker,
    connection: { state: c.state, since: c.since, reason: c.reason ?? null },
    roster: { online: r.online, known: r.peers },
    ...parts,
    ...wearOfSeries(node.series, parts.board),
    supervise: null,
  };
}

export interface Health {
  ok: boolean;
  /** One line per problem (`broker: reconnecting since …`, `series: write failed: …`); empty when ok. */
  problems: string[];
  /**
   * What an operator should know that does not make the node unhealthy: damaged records skipped at
   * open stay in the series until the ring evicts them, and no restart repairs them, so they must
   * not keep a supervisor restarting the node.
   */
  warnings: string[];
}

/** Healthy = connected to the broker and the series still takes writes. */
export function healthOf(node: StatusNode): Health {
  const problems: string[] = [];
  const c = node.transport.connection();
  if (c.state !== 'online') {
    const since = new Date(c.since).toISOString();
    problems.push(`broker: ${c.state} since ${since} (${c.reason !== undefined ? `${c.reason}, ` : ''}${c.broker})`);
  }
  if (node.seriesFailure !== undefined) problems.push(`series: write failed: ${node.seriesFailure.message}`);
  const warnings: string[] = [];
  const damaged = node.series.stats().damagedRecords;
  if (damaged > 0) warnings.push(`series: ${damaged} damaged record(s) skipped at open (dameso series verify)`);
  return { ok: problems.length === 0, problems, warnings };
}

/** The node's own limiters' values now; undefined under a custom gate (no values to show). */
function limiterValues(node: StatusNode): LimiterValues | undefined {
  const g = node.gate as Partial<LimiterGate>;
  return typeof g.values === 'function' ? { ...g.values() } : undefined;
}

/**
 * A node's status and consensus records for dashboards (docs/protocol.md §5.6): retained, under
 * its own id, at most once per STATUS_MIN_INTERVAL_MS and only when they changed. Limiter values
 * are rounded to two decimals, so a CPU gauge wobbling in its third decimal is not news.
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { REPUTATION_VIEW, type ReputationState, reputationScores } from '../observe/index.js';
import {
  CONSENSUS_QOS,
  type ConsensusEnvelope,
  type LimiterValues,
  MAX_STATUS_CLOSED,
  MAX_STATUS_PEERS,
  STATUS_MIN_INTERVAL_MS,
  STATUS_QOS,
  type StatusEnvelope,
  stampEpoch,
} from '../protocol/index.js';
import type { Series, View } from '../series/index.js';
import type { Transport } from '../transport/index.js';
import { STATUS_CHECK_MS } from './constants.js';
import { DASHBOARD_VIEW, type DashboardViewState, dashboardView } from './status-view.js';

/**
 * What the publisher uses of a node's components (a structural part of the node's StatusDeps,
 * so the service plugs into `services` without this folder depending on the node's).
 */
export interface StatusDeps {
  id: string;
  series: Pick<Series, 'view'>;
  transport: Pick<Transport, 'topics' | 'session' | 'epoch' | 'publish' | 'onConnect'>;
  clock: Clock;
  log: Logger;
  pressure(): string | undefined;
  limiterReadout?(): { board: string; values: LimiterValues } | undefined;
}

interface StatusInstance {
  start(): void;
  stop(): void;
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

function roundedLimiters(values: LimiterValues): LimiterValues {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, round2(v)])) as unknown as LimiterValues;
}

/** The peers' reputation as this node derives it (observe service), or undefined without one. */
function reputationOf(c: StatusDeps): Record<string, number> | undefined {
  let state: ReputationState;
  try {
    state = c.series.view<ReputationState>(REPUTATION_VIEW);
  } catch {
    return undefined; // no observe service: the node derives no reputation
  }
  const entries = Object.entries(reputationScores(state)).slice(0, MAX_STATUS_PEERS);
  return entries.length === 0 ? undefined : Object.fromEntries(entries.map(([k, v]) => [k, round2(v)]));
}

/** The status record's fields other than the envelope and time (what "changed" compares). */
function statusBody(
  c: StatusDeps,
  closed: StatusEnvelope['closed'],
): Omit<StatusEnvelope, 'v' | 'node' | 'session' | 't'> {
  const readout = c.limiterReadout?.();
  const busy = c.pressure();
  const rep = reputationOf(c);
  return {
    ...(readout !== undefined ? { board: readout.board, lim: roundedLimiters(readout.values) } : {}),
    ...(busy !== undefined ? { busy } : {}),
    ...(closed !== undefined && closed.length > 0 ? { closed } : {}),
    ...(rep !== undefined ? { rep } : {}),
  };
}

function createPublisher(c: StatusDeps): StatusInstance {
  const topics = c.transport.topics;
  let timer: ReturnType<StatusDeps['clock']['setInterval']> | undefined;
  let offConnect: (() => void) | undefined;
  let lastAt = Number.NEGATIVE_INFINITY;
  let lastStatus = '';
  let lastCells = '';
  // Closed intents already told (outcome entries up to this seq); set at start, so a restart does
  // not tell the intents of a previous run again.
  let toldSeq = 0;

  const view = () => c.series.view<DashboardViewState>(DASHBOARD_VIEW);
  const envelope = () => {
    const e: { v: 1; node: string; session: number; epoch?: number; t: number } = {
      v: 1,
      node: c.id,
      session: c.transport.session,
      t: c.clock.now(),
    };
    stampEpoch(e, c.transport.epoch);
    return e;
  };
  // Retained: one made while the broker is away is kept and sent at the next connect.
  const publish = (topic: string, record: object, qos: 0 | 1): void => {
    c.transport.publish(topic, record, { qos, retain: true }).catch((err: unknown) => {
      c.log.debug({ err, topic }, 'dashboard: a status record was not published');
    });
  };

  const tick = (): void => {
    const now = c.clock.monotonic();
    if (now - lastAt < STATUS_MIN_INTERVAL_MS) return;
    const state = view();
    const fresh = state.closed.filter((s) => s.seq > toldSeq).slice(-MAX_STATUS_CLOSED);
    const body = statusBody(
      c,
      fresh.map(({ seq: _seq, ...s }) => s),
    );
    const statusText = JSON.stringify(body);
    const cells = Object.values(state.cells);
    const cellsText = JSON.stringify(cells);
    if (statusText === lastStatus && cellsText === lastCells) return;
    lastAt = now;
    if (statusText !== lastStatus) {
      lastStatus = statusText;
      toldSeq = state.closed.at(-1)?.seq ?? toldSeq;
      publish(topics.status(c.id), { ...envelope(), ...body }, STATUS_QOS);
    }
    if (cellsText !== lastCells && cells.length > 0) {
      lastCells = cellsText;
      const record: ConsensusEnvelope = { ...envelope(), cells };
      publish(topics.consensus(c.id), record, CONSENSUS_QOS);
    }
  };

  return {
    start() {
      toldSeq = view().closed.at(-1)?.seq ?? 0;
      // After a reconnect the records go out again with the new session.
      offConnect = c.transport.onConnect(() => {
        lastStatus = '';
        lastCells = '';
        lastAt = Number.NEGATIVE_INFINITY;
      });
      timer = c.clock.setInterval(tick, STATUS_CHECK_MS);
      tick();
    },
    stop() {
      c.clock.clearInterval(timer);
      offConnect?.();
    },
  };
}

/** The dashboard status service: add it to a node's services to feed `dameso broker --http-port`. */
export function createStatusService(): {
  name: string;
  views: readonly View<unknown>[];
  create(c: StatusDeps): StatusInstance;
} {
  return { name: 'dashboard-status', views: [dashboardView as View<unknown>], create: createPublisher };
}

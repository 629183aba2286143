/**
 * `topology`: how well connected the node is. value = min(onlineShare, 1 − rtt/rttBudget):
 * - onlineShare = known peers online / known peers, from the roster (a function passed in, so this
 *   file does not depend on presence internals); no known peers → 1 (nothing says otherwise);
 * - the broker round trip when known (a function returning ms or undefined).
 * With the default policy it never refuses on its own; it is recorded with each decision.
 */
import { DEFAULT_RTT_BUDGET_MS } from './constants.js';
import { clamp01, type Limiter } from './types.js';

export interface PeerCounts {
  online: number;
  known: number;
}

export interface TopologyOptions {
  /** Peers from the roster; must be cheap. Default: none known. */
  peers?: () => PeerCounts;
  /** Last measured broker round trip, ms, or undefined when not measured. */
  brokerRttMs?: () => number | undefined;
  /** Round trip at which the value reaches 0, ms. Default `DEFAULT_RTT_BUDGET_MS` (1 s). */
  rttBudgetMs?: number;
}

export function createTopology(options: TopologyOptions = {}): Limiter {
  const rttBudget = options.rttBudgetMs ?? DEFAULT_RTT_BUDGET_MS;
  const share = (): number => {
    const p = options.peers?.();
    return p === undefined || p.known <= 0 ? 1 : p.online / p.known;
  };
  const rtt = (): number | undefined => options.brokerRttMs?.();
  return {
    name: 'topology',
    value() {
      const r = rtt();
      return clamp01(Math.min(share(), r === undefined ? 1 : 1 - r / rttBudget));
    },
    detail: () => {
      const p = options.peers?.();
      return {
        peersOnline: p?.online ?? null,
        peersKnown: p?.known ?? null,
        brokerRttMs: rtt() ?? null,
        rttBudgetMs: rttBudget,
      };
    },
  };
}

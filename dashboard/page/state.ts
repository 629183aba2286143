/**
 * What the page knows, folded from the retained records it receives (presence, status, consensus),
 * every table bounded (constants.ts). Pure: records and a time in, state out; no DOM, no network.
 */
import type { ClosedIntentSummary } from '../../src/protocol/types.js';
import { KEEP_MS, MAX_CELLS, MAX_INTENTS, MAX_NODES } from './constants.js';

export interface NodeView {
  id: string;
  state: 'online' | 'offline' | 'unknown';
  roles: string[];
  session?: number;
  board?: string;
  busy?: string;
  lim?: Record<string, number>;
  rep?: Record<string, number>;
  /** When its last status record was received (page clock), ms. */
  statusAt?: number;
}

/** One closed intent as its requester's status record told it (docs/protocol.md §5.6). */
export interface IntentView extends ClosedIntentSummary {
  requester: string;
  /** When the page received it, ms. */
  at: number;
}

export interface CellView {
  cell: string;
  metric: string;
  value: number;
  spread: number;
  n: number;
  t: number;
  low: boolean;
  /** The node that announced it. */
  node: string;
}

export interface DashboardState {
  nodes: Map<string, NodeView>;
  /** Newest first. */
  intents: IntentView[];
  cells: Map<string, CellView>;
  /** Intents received since the page opened (including those forgotten since). */
  intentsSeen: number;
}

export function emptyState(): DashboardState {
  return { nodes: new Map(), intents: [], cells: new Map(), intentsSeen: 0 };
}

type Fields = Record<string, unknown>;

const isMap = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const numberOr = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);

function nodeOf(s: DashboardState, id: string): NodeView {
  let n = s.nodes.get(id);
  if (n === undefined) {
    if (s.nodes.size >= MAX_NODES) {
      // Forget an offline node first, else the oldest known.
      const gone = [...s.nodes.values()].find((x) => x.state !== 'online') ?? s.nodes.values().next().value;
      if (gone !== undefined) s.nodes.delete(gone.id);
    }
    n = { id, state: 'unknown', roles: [] };
    s.nodes.set(id, n);
  }
  return n;
}

export function applyPresence(s: DashboardState, node: string, m: Fields | null): void {
  if (m === null) {
    s.nodes.delete(node);
    return;
  }
  // The broker drops stale records (docs/protocol.md §12): what arrives is the newest.
  const n = nodeOf(s, node);
  const session = numberOr(m.session, 0);
  n.state = m.state === 'online' ? 'online' : 'offline';
  n.roles = Array.isArray(m.roles) ? m.roles.filter((r): r is string => typeof r === 'string') : [];
  n.session = session;
  const caps = isMap(m.caps) ? m.caps : {};
  if (typeof caps.board === 'string') n.board = caps.board;
}

export function applyStatus(s: DashboardState, node: string, m: Fields | null, now: number): void {
  if (m === null) return;
  const n = nodeOf(s, node);
  if (typeof m.board === 'string') n.board = m.board;
  n.busy = typeof m.busy === 'string' ? m.busy : undefined;
  n.lim = isMap(m.lim) ? (m.lim as Record<string, number>) : undefined;
  n.rep = isMap(m.rep) ? (m.rep as Record<string, number>) : undefined;
  n.statusAt = now;
  if (Array.isArray(m.closed)) for (const c of m.closed) if (isMap(c)) addIntent(s, node, c, now);
  forgetOld(s, now);
}

function addIntent(s: DashboardState, requester: string, c: Fields, now: number): void {
  const id = String(c.id);
  // A retained record is received again at every (re)subscription: count each intent once.
  if (s.intents.some((i) => i.id === id && i.requester === requester)) return;
  s.intents.unshift({
    requester,
    id,
    kind: String(c.kind),
    ms: numberOr(c.ms, 0),
    yes: numberOr(c.yes, 0),
    no: isMap(c.no) ? (c.no as Record<string, number>) : {},
    silence: numberOr(c.silence, 0),
    offline: numberOr(c.offline, 0),
    at: now,
  });
  s.intentsSeen++;
  if (s.intents.length > MAX_INTENTS) s.intents.length = MAX_INTENTS;
}

export function applyConsensus(s: DashboardState, node: string, m: Fields | null, now: number): void {
  if (m === null || !Array.isArray(m.cells)) return;
  for (const c of m.cells) {
    if (!isMap(c) || typeof c.cell !== 'string' || typeof c.metric !== 'string') continue;
    const key = `${c.metric}\u0000${c.cell}`;
    const t = numberOr(c.t, 0);
    const known = s.cells.get(key);
    if (known !== undefined && known.t > t) continue;
    s.cells.delete(key);
    s.cells.set(key, {
      cell: c.cell,
      metric: c.metric,
      value: numberOr(c.value, Number.NaN),
      spread: numberOr(c.spread, Number.NaN),
      n: numberOr(c.n, 0),
      t,
      low: c.low === true,
      node,
    });
    if (s.cells.size > MAX_CELLS) s.cells.delete(s.cells.keys().next().value as string);
  }
  forgetOld(s, now);
}

/** Intents received more than KEEP_MS ago are forgotten. */
export function forgetOld(s: DashboardState, now: number): void {
  const keepFrom = now - KEEP_MS;
  while (s.intents.length > 0 && (s.intents.at(-1) as IntentView).at < keepFrom) s.intents.pop();
}

/** Totals over the intents kept: how the fleet answers, at a glance. */
export function intentTotals(s: DashboardState): { yes: number; no: number; silence: number; offline: number } {
  const t = { yes: 0, no: 0, silence: 0, offline: 0 };
  for (const i of s.intents) {
    t.yes += i.yes;
    t.no += Object.values(i.no).reduce((a, b) => a + b, 0);
    t.silence += i.silence;
    t.offline += i.offline;
  }
  return t;
}

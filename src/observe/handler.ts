/**
 * The answer side of `want_observations` (role `mapper`; subject = a geohash cell or prefix).
 * YES data = this node's own newest observations in that cell, read from its series with a bounded
 * read; a node with none there stays SILENT (paradigm: not having the thing is silence, not NO).
 */
import type { IntentHandler, ReceivedIntent } from '../intent/types.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { Entry, Series } from '../series/types.js';
import { CELL_INDEX_VIEW, type CellIndexState, seqsFor } from './cell-index.js';
import { MAX_OBSERVATIONS_PER_ANSWER, MAX_SCAN_ENTRIES } from './constants.js';
import { asObservation, isCell } from './observation.js';

export const WANT_OBSERVATIONS = 'want_observations';
export const MAPPER_ROLE = 'mapper';

/** One observation as sent in a YES reply. */
export interface WireObservation {
  cell: string;
  metric: string;
  value: number;
  lat: number;
  lon: number;
  fix: number;
  t: number;
}

/** YES data of `want_observations`. */
export interface ObservationsData {
  cell: string;
  obs: WireObservation[];
}

export interface ObservationHandlerOptions {
  series: Series;
  log?: Logger;
  /** Most observations per answer, newest kept. Default `MAX_OBSERVATIONS_PER_ANSWER` (64). */
  maxObservations?: number;
}

function indexOf(series: Series): CellIndexState | undefined {
  try {
    return series.view<CellIndexState>(CELL_INDEX_VIEW);
  } catch {
    return undefined; // no index registered: fall back to a bounded tail read
  }
}

const toWire = (e: Entry): WireObservation | undefined => {
  const o = asObservation(e);
  if (!o) return undefined;
  return { cell: o.cell, metric: o.metric, value: o.value, lat: o.lat, lon: o.lon, fix: o.fix, t: o.t };
};

/** This node's newest observations in cells starting with `prefix`, oldest first, at most `limit`. */
export async function ownObservations(series: Series, prefix: string, limit: number): Promise<WireObservation[]> {
  const index = indexOf(series);
  const out: WireObservation[] = [];
  if (index) {
    const seqs = seqsFor(index, prefix, limit);
    if (seqs.length === 0) return out;
    const want = new Set(seqs);
    let scanned = 0;
    for await (const e of series.read({
      event: 'observation',
      fromSeq: seqs[0] as number,
      toSeq: seqs[seqs.length - 1] as number,
    })) {
      if (want.has(e.seq)) {
        const w = toWire(e);
        if (w) out.push(w);
        if (out.length === want.size) break;
      }
      if (++scanned >= MAX_SCAN_ENTRIES) break; // bounded, documented in constants.ts
    }
    return out;
  }
  const tail = await series.tail(MAX_SCAN_ENTRIES, { event: 'observation' });
  for (const e of tail) {
    if (typeof e.cell === 'string' && e.cell.startsWith(prefix)) {
      const w = toWire(e);
      if (w) out.push(w);
      if (out.length >= limit) break;
    }
  }
  return out.reverse();
}

export function createObservationHandler(options: ObservationHandlerOptions): IntentHandler {
  // Read late: the node creates handlers before the series is open.
  const seriesOf = (): Series => options.series;
  const logOf = (): Logger => options.log ?? silentLogger;
  const limit = options.maxObservations ?? MAX_OBSERVATIONS_PER_ANSWER;
  let loggedBad = false;
  return {
    kind: WANT_OBSERVATIONS,
    role: MAPPER_ROLE,
    relevant(intent: ReceivedIntent) {
      const subject = intent.envelope.subject;
      if (subject === undefined || !isCell(subject)) return true; // answered NO bad_request below
      const index = indexOf(seriesOf());
      return index ? seqsFor(index, subject, 1).length > 0 : true;
    },
    async handle(intent: ReceivedIntent) {
      const subject = intent.envelope.subject;
      if (subject === undefined || !isCell(subject)) {
        if (!loggedBad) {
          loggedBad = true;
          logOf().warn({ from: intent.envelope.from, subject }, 'want_observations without a geohash subject');
        }
        return { r: 'no', reason: 'bad_request' };
      }
      const obs = await ownObservations(seriesOf(), subject, limit);
      if (obs.length === 0) return { r: 'silence', why: 'no observations in that cell' };
      const data: ObservationsData = { cell: subject, obs };
      return { r: 'yes', data };
    },
  };
}

/**
 * The fleet's end check, on the stopped folders: every node's series verifies sound (what
 * `dameso series verify` checks), and the requester's series holds exactly one `intent_outcome`
 * per intent it saw close, and none for an intent it never declared.
 */
import { join } from 'node:path';
import { messageOf } from '../errors.js';
import { SERIES_SUBDIR } from '../node/constants.js';
import { createSeries } from '../series/index.js';
import { verifySeries } from '../series/verify.js';

export interface SeriesCheck {
  id: string;
  sound: boolean;
  entries: number;
  corruptRecords: number;
  missingSeqs: number;
}

export async function checkNodeSeries(dataDir: string, id: string): Promise<SeriesCheck> {
  const r = await verifySeries(join(dataDir, SERIES_SUBDIR));
  return { id, sound: r.sound, entries: r.entries, corruptRecords: r.corruptRecords, missingSeqs: r.missingSeqs };
}

export interface OutcomeCheck {
  outcomes: number;
  /** Closed intents with no outcome entry. */
  missing: number;
  /** Intent ids with more than one outcome entry. */
  duplicated: number;
  /** Outcome entries for ids that were never declared here. */
  unknown: number;
}

export async function checkRequesterOutcomes(
  dataDir: string,
  declared: ReadonlySet<string>,
  closed: ReadonlySet<string>,
  fromSeq: number,
): Promise<OutcomeCheck> {
  const series = createSeries({ dir: join(dataDir, SERIES_SUBDIR), readOnly: true });
  await series.open();
  const seen = new Map<string, number>();
  try {
    for await (const e of series.read({ fromSeq, event: ['intent_outcome'] })) {
      const id = String((e as { id?: unknown }).id);
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
  } finally {
    await series.close();
  }
  let outcomes = 0;
  let duplicated = 0;
  let unknown = 0;
  for (const [id, n] of seen) {
    outcomes += n;
    if (n > 1) duplicated++;
    if (!declared.has(id)) unknown++;
  }
  let missing = 0;
  for (const id of closed) if (!seen.has(id)) missing++;
  return { outcomes, missing, duplicated, unknown };
}

/** Both checks over a stopped fleet's folders; each problem found is pushed onto `failures`. */
export async function checkFolders(
  dataDir: string,
  nodeIds: readonly string[],
  failures: string[],
  /** `fromSeq`: the first seq of this run (a --data folder reused keeps earlier runs' outcomes). */
  requester?: { id: string; declared: ReadonlySet<string>; closed: ReadonlySet<string>; fromSeq: number },
): Promise<{ series: SeriesCheck[]; requesterOutcomes: OutcomeCheck | null }> {
  const series: SeriesCheck[] = [];
  for (const id of nodeIds) {
    const c = await checkNodeSeries(join(dataDir, id), id).catch((err: unknown) => {
      failures.push(`${id}: series verify failed: ${messageOf(err)}`);
      return undefined;
    });
    if (!c) continue;
    series.push(c);
    if (!c.sound) failures.push(`${id}: series not sound (${c.corruptRecords} corrupt, ${c.missingSeqs} missing seqs)`);
  }
  if (!requester) return { series, requesterOutcomes: null };
  const r = await checkRequesterOutcomes(
    join(dataDir, requester.id),
    requester.declared,
    requester.closed,
    requester.fromSeq,
  ).catch((err: unknown) => {
    failures.push(`requester series unreadable: ${messageOf(err)}`);
    return undefined;
  });
  if (!r) return { series, requesterOutcomes: null };
  if (r.missing || r.duplicated || r.unknown) {
    failures.push(
      `requester series: ${r.missing} closed intent(s) without an outcome, ${r.duplicated} with several, ${r.unknown} unknown`,
    );
  }
  return { series, requesterOutcomes: r };
}

/** Build series folders and look at their records for recovery tests. */
import { constants as fsc } from 'node:fs';
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSeries, type Entry } from '../../src/series/index.js';
import { scanSegment } from '../../src/series/scan.js';
import { collect } from './series-tmp.js';

export interface RecordAt {
  seq: number;
  offset: number;
  end: number;
}

/** Make a series of `n` small entries (after the opening snapshot); returns them. */
export async function makeSeries(dir: string, n: number, extra: Record<string, unknown> = {}): Promise<Entry[]> {
  const s = createSeries({ dir, durability: 'none' });
  await s.open();
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) out.push(await s.append({ event: i % 3 ? 'tick' : 'tock', i, ...extra }));
  await s.close();
  return out;
}

export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.seg')).sort();
}

/** Offsets of the valid records of one segment file. */
export async function recordsOf(path: string, firstSeq: number): Promise<RecordAt[]> {
  const buf = await readFile(path);
  const fh = await open(path, fsc.O_RDONLY);
  try {
    const items = await collect(scanSegment(fh, buf.length, firstSeq));
    return items.flatMap((it) =>
      it.kind === 'record' ? [{ seq: it.header.seq, offset: it.offset, end: it.end }] : [],
    );
  } finally {
    await fh.close();
  }
}

export async function readAll(dir: string): Promise<Entry[]> {
  const s = createSeries({ dir, readOnly: true });
  await s.open();
  const all = await collect(s.read());
  await s.close();
  return all;
}

export function segPath(dir: string, name: string): string {
  return join(dir, name);
}

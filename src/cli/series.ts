/**
 * `dameso series …`: append, verify, export and inspect a series folder.
 */
import { writeSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { encodeEntry } from '../cbor/index.js';
import { DamesoError } from '../errors.js';
import { createLogger } from '../log.js';
import {
  createSeries,
  type DamagedRegion,
  type Durability,
  type Entry,
  type Series,
  SeriesCorruptError,
  verifySeries,
} from '../series/index.js';
import { EXIT } from './exit.js';

const DURABILITY = new Option('--durability <mode>', 'always | batch | none').choices(['always', 'batch', 'none']);

function int(name: string, min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    // InvalidArgumentError: commander prints one line naming the flag, exit 64 (not a stack trace).
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

/** Set once the reader of stdout went away (`… | head`): the command stops quietly, exit 0. */
let stdoutClosed = false;

/** Write to fd 1 synchronously: a line is out before the next commit can happen (and before a kill). */
function out(line: string): void {
  if (stdoutClosed) return;
  try {
    writeSync(1, `${line}\n`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
    stdoutClosed = true;
  }
}

interface AppendOptions {
  dir: string;
  count: number;
  size: number;
  durability: Durability;
  window?: number;
  segmentBytes?: number;
  budgetBytes?: number;
  inFlight: number;
  event: string;
}

async function appendCmd(options: AppendOptions) {
  const series = createSeries({
    dir: options.dir,
    durability: options.durability,
    batchWindowMs: options.window,
    segmentBytes: options.segmentBytes,
    budgetBytes: options.budgetBytes,
    log: createLogger({ level: 'warn' }),
    // Called only after the commit's write (+ fdatasync unless `none`) returned.
    onDurable: (seq) => out(`durable ${seq}`),
  });
  const rep = await series.open();
  if (rep.truncatedBytes > 0 || rep.corruptRecords > 0) {
    process.stderr.write(
      `recovered: cut ${rep.truncatedBytes} torn bytes, skipped ${rep.corruptRecords} corrupt record(s)\n`,
    );
  }
  const data = new Uint8Array(options.size);
  for (let i = 0; i < data.length; i++) data[i] = i & 0xff;
  // Bounded in flight: enough to fill a batch window, never the whole count in memory.
  const maxInFlight = Math.max(1, Math.min(options.inFlight, Math.floor((8 * 1024 * 1024) / (options.size + 64))));
  let inFlight = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const settled = (): void => {
    inFlight--;
    wake?.();
  };
  try {
    // Nobody reads the durable lines any more: stop appending, close the series cleanly.
    for (let i = 0; i < options.count && failure === undefined && !stdoutClosed; i++) {
      inFlight++;
      series.append({ event: options.event, i, data }).then(settled, (err: unknown) => {
        failure ??= err;
        settled();
      });
      while (inFlight >= maxInFlight) await new Promise<void>((r) => (wake = r));
    }
    while (inFlight > 0) await new Promise<void>((r) => (wake = r));
  } finally {
    await series.close().catch(() => undefined);
  }
  if (failure !== undefined) throw failure;
  if (!stdoutClosed) process.stderr.write(`appended ${options.count} entries; last seq ${series.lastSeq}\n`);
}

async function verifyCmd(options: { dir: string; json?: boolean }) {
  const r = await verifySeries(options.dir);
  // An empty folder holds no series at all: "sound" would let a wrong --dir pass a check.
  if (r.perSegment.length === 0 && r.evictedSegments === 0) {
    throw new DamesoError(
      'DAMESO_NOT_A_SERIES',
      `${options.dir} holds no series (no segment files): point --dir at a series folder`,
    );
  }
  if (options.json) out(JSON.stringify(r));
  else {
    out(`${r.sound ? 'sound' : 'NOT SOUND'}: ${r.dir}`);
    out(`entries ${r.entries}  seq ${r.firstSeq}..${r.lastSeq}  bytes ${r.bytes}  segments ${r.segments}`);
    out(`truncated bytes ${r.truncatedBytes}  corrupt records ${r.corruptRecords}  missing seqs ${r.missingSeqs}`);
    if (r.writerPid !== null) {
      out(
        `live: process ${r.writerPid} is appending; tail in progress ${r.inProgressBytes} bytes (a record being ` +
          `written, not damage); ${r.evictedSegments} segment(s) evicted during the scan`,
      );
    }
  }
  if (!r.sound) process.exitCode = EXIT.unsound;
}

async function openReadOnly(dir: string): Promise<Series> {
  const s = createSeries({ dir, readOnly: true });
  await s.open();
  return s;
}

/** JSON with byte strings as base64 text (standard alphabet). */
function toJson(e: Entry): string {
  return JSON.stringify(e, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v));
}

async function write(chunk: string | Uint8Array): Promise<void> {
  if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once('drain', r));
}

interface ExportOptions {
  dir: string;
  fromSeq?: number;
  toSeq?: number;
  event?: string[];
  format: string;
  skipDamaged?: boolean;
}

/** `3 damaged record(s) skipped (first in <file> at byte 1234)`. */
function damagedText(damaged: DamagedRegion[]): string {
  const first = damaged[0];
  return `${damaged.length} damaged record(s) skipped${first ? ` (first in ${first.path} at byte ${first.offset})` : ''}`;
}

async function exportCmd(options: ExportOptions) {
  const s = await openReadOnly(options.dir);
  const damaged: DamagedRegion[] = [];
  const onDamaged = (d: DamagedRegion): void => {
    damaged.push(d);
  };
  try {
    for await (const e of s.read({ fromSeq: options.fromSeq, toSeq: options.toSeq, event: options.event, onDamaged })) {
      await write(options.format === 'cbor' ? encodeEntry(e) : `${toJson(e)}\n`);
    }
  } finally {
    await s.close();
  }
  if (damaged.length === 0 || stdoutClosed) return;
  // A skipped record is data lost: say so, and fail unless the user chose to take what is left.
  if (options.skipDamaged) process.stderr.write(`dameso: ${options.dir}: ${damagedText(damaged)}\n`);
  else
    throw new SeriesCorruptError(
      options.dir,
      `${damagedText(damaged)}; the other entries were exported. Pass --skip-damaged to accept that (exit 0)`,
    );
}

async function inspectCmd(options: { dir: string; json?: boolean }) {
  const r = await verifySeries(options.dir);
  if (options.json) {
    out(JSON.stringify({ segments: r.perSegment, lastSnapshot: r.lastSnapshot, events: r.events }));
    return;
  }
  out(`series ${r.dir}: ${r.segments} segment(s), ${r.bytes} bytes, seq ${r.firstSeq}..${r.lastSeq}`);
  for (const g of r.perSegment) {
    const flags = [g.tornHeader ? 'torn header' : '', g.tornTailBytes ? `torn tail ${g.tornTailBytes} B` : '']
      .concat(g.corruptRecords ? [`${g.corruptRecords} corrupt`] : [])
      .filter(Boolean);
    out(`  ${g.file}  ${g.bytes} B  seq ${g.firstSeq}..${g.lastSeq}  ${g.records} records ${flags.join(', ')}`);
  }
  const snap = r.lastSnapshot;
  out(
    snap
      ? `last snapshot: seq ${snap.seq}, views ${Object.keys(snap.views).join(', ') || '(none)'}`
      : 'last snapshot: none',
  );
  out('events:');
  for (const [k, v] of Object.entries(r.events).sort((a, b) => b[1] - a[1])) out(`  ${k} ${v}`);
}

export function registerSeries(program: Command): void {
  const series = program
    .command('series')
    .description('work with a durable series folder (the append-only log every node keeps)')
    .addHelpText(
      'after',
      `
Examples:
  dameso series append --dir /tmp/s --count 10000 --size 100 --durability batch
  dameso series verify --dir /tmp/s            # exit 0 only when sound
  dameso series export --dir /tmp/s --event boot --format jsonl | head
  dameso series inspect --dir /tmp/s`,
    );

  registerAppend(series);
  registerVerify(series);
  registerExport(series);
  registerInspect(series);
}

function registerAppend(series: Command): void {
  series
    .command('append')
    .description('append N entries and print "durable <seq>" after every durable commit')
    .requiredOption('--dir <dir>', 'series folder (created when missing)')
    .requiredOption('--count <n>', 'entries to append', int('--count', 0))
    .option('--size <bytes>', 'size of each entry\'s "data" byte string', int('--size', 0), 64)
    .addOption(DURABILITY.default('batch'))
    .option('--window <ms>', 'batch window in ms (default 10)', int('--window', 0))
    .option('--segment-bytes <bytes>', 'segment size (default 4 MiB)', int('--segment-bytes', 4096))
    .option(
      '--budget-bytes <bytes>',
      'ring budget (default 64 MiB; oldest segments are dropped)',
      int('--budget-bytes', 8192),
    )
    .option('--in-flight <n>', 'appends awaiting durability at once', int('--in-flight', 1), 1024)
    .option('--event <name>', 'event name of the entries', 'append')
    .addHelpText(
      'after',
      `
Every "durable <seq>" line is printed only after that commit's write and fdatasync returned
(after the write alone with --durability none): a seq printed is on disk even if the process
is killed right after. Appends continue from the series' last seq.

Example:
  dameso series append --dir /tmp/s --count 1000 --durability always | tail -1`,
    )
    .action(appendCmd);
}

function registerVerify(series: Command): void {
  series
    .command('verify')
    .description('scan every segment; exit 0 when sound, 1 when damaged, 65 when the folder holds no series')
    .requiredOption('--dir <dir>', 'series folder')
    .option('--json', 'one JSON object on stdout')
    .addHelpText(
      'after',
      `
Reports entries, first/last seq, bytes, segments, the torn tail the next open will cut
(truncated bytes: the normal trace of a crash, not damage), corrupt records and missing seqs.
Read-only: takes no lock and modifies nothing, so it runs beside a node that is appending; then
a "live:" line names the writer's pid, and the torn tail is a record in progress, not damage.

Example:
  dameso series verify --dir /var/lib/dameso/series --json`,
    )
    .action(verifyCmd);
}

function registerExport(series: Command): void {
  series
    .command('export')
    .description('print entries, oldest first')
    .requiredOption('--dir <dir>', 'series folder')
    .option('--from-seq <seq>', 'first seq (inclusive)', int('--from-seq', 1))
    .option('--to-seq <seq>', 'last seq (inclusive)', int('--to-seq', 1))
    .option('--event <name...>', 'only these events')
    .addOption(new Option('--format <fmt>', 'jsonl | cbor').choices(['jsonl', 'cbor']).default('jsonl'))
    .option('--skip-damaged', 'exit 0 even when damaged records were skipped (still said on stderr)')
    .addHelpText(
      'after',
      `
jsonl: one JSON object per line; byte strings are written as base64 text (standard alphabet).
cbor: a CBOR sequence (RFC 8742), each entry exactly as the series decodes it.
A damaged record (fails its CRC) is never printed: the command says how many were skipped on
stderr and exits 65, or 0 with --skip-damaged.

Examples:
  dameso series export --dir /tmp/s --from-seq 100 --event boot
  dameso series export --dir /tmp/s --format cbor > entries.cbors
  dameso series export --dir /tmp/s --skip-damaged > what-is-left.jsonl`,
    )
    .action(exportCmd);
}

function registerInspect(series: Command): void {
  series
    .command('inspect')
    .description('segments with sizes and seq ranges, views in the last snapshot, event counts')
    .requiredOption('--dir <dir>', 'series folder')
    .option('--json', 'one JSON object on stdout')
    .addHelpText('after', '\nExample:\n  dameso series inspect --dir /tmp/s')
    .action(inspectCmd);
}

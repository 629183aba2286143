/**
 * `dameso chunks push|get|pull|decode|who-has|ls`: the chunks layer from a shell. `push`, `get`, `pull`
 * and `who-has` run a short-lived node against `--broker` (chunks-net.ts); `ls` only reads a data
 * folder. Against a broker that authenticates, the short-lived node takes `--password-file` with
 * `--id` (the user name).
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  CHUNKS_DIR_NAME,
  ChunkNotFoundError,
  type ChunksState,
  chunksView,
  DEFAULT_CHUNK_MAX_BYTES,
  DEFAULT_CHUNK_MAX_ENTRIES,
  DEFAULT_FETCH_DEADLINE_MS,
  DEFAULT_PUSH_WINDOW,
  DEFAULT_REPLICAS,
  type FetchResult,
  type PushSeriesProgress,
  type PushSeriesResult,
} from '../chunks/index.js';
import { createSeries, decodeChunk, type View } from '../series/index.js';
import { registerDecode } from './chunks-decode.js';
import { chunkIdArg, int, type NetFlags, netFlags, netNode, out, withNode, withProgress } from './chunks-net.js';
import { registerPull } from './chunks-pull.js';
import { EXIT } from './exit.js';
import { requireSeriesIn } from './fs-errors.js';
import { checkOutputPath, writeFileAtomic } from './out-file.js';

/** `pushing seq 1..610080: 37 % (368 chunks, 23.5 MB, 368 at K) after 14 s`. */
export function pushProgressLine(p: PushSeriesProgress, elapsedMs: number): string {
  const span = p.toSeq - p.fromSeq + 1;
  const pct = Math.floor((100 * (p.atSeq - p.fromSeq + 1)) / span);
  const mb = (p.bytes / 1e6).toFixed(1);
  return (
    `pushing seq ${p.fromSeq}..${p.toSeq}: ${pct} % (${p.chunks} chunks, ${mb} MB, ${p.met} at K) ` +
    `after ${Math.round(elapsedMs / 1000)} s`
  );
}

/** A push that did not start: nothing of the range covered. */
function unpushed(range: { fromSeq: number; toSeq: number }): PushSeriesResult {
  return { ...range, coveredToSeq: range.fromSeq - 1, chunks: [] };
}

/** `only 2 of 3 storage nodes online: bt-1, bt-2; …`. */
export function tooFewLine(online: readonly string[], k: number): string {
  return (
    `only ${online.length} of ${k} storage nodes online: ${online.join(', ') || 'none'}; nothing pushed ` +
    '(start more bt nodes, or lower --replicas)'
  );
}

export interface Coverage {
  fromSeq: number;
  /** Last seq covered (`fromSeq - 1` when none). */
  toSeq: number;
  /** Covered share of the requested range, 0..1. */
  share: number;
}

/** How much of the requested range is now replicated K times (a prefix of it). */
export function coverage(res: PushSeriesResult): Coverage {
  const span = res.toSeq - res.fromSeq + 1;
  const done = Math.max(0, res.coveredToSeq - res.fromSeq + 1);
  return {
    fromSeq: res.fromSeq,
    toSeq: res.coveredToSeq,
    share: span <= 0 ? 1 : Math.round((done / span) * 1e4) / 1e4,
  };
}

/** `seq 1..500: covered 1..320 (64 % of the range)`. */
export function coverageLine(res: PushSeriesResult, c: Coverage): string {
  const pct = Math.floor(c.share * 100);
  const what = c.toSeq < c.fromSeq ? 'covered nothing' : `covered ${c.fromSeq}..${c.toSeq}`;
  return `seq ${res.fromSeq}..${res.toSeq}: ${what} (${pct} % of the range)`;
}

export function registerChunks(program: Command): void {
  const chunks = program
    .command('chunks')
    .description(
      'chunks of series on bt storage nodes: a node cuts its series into chunks (CBOR, id = SHA-256 ' +
        'of the bytes), pushes each to K storage nodes that announce it with retained `have` records ' +
        'on the broker; anyone can then ask who has a chunk and fetch it from any holder, every byte ' +
        'verified against its id',
    )
    .addHelpText(
      'after',
      `
Examples:
  dameso chunks push --data /var/lib/dameso --id pi-7 --broker mqtt://hub:1883 --replicas 3
  dameso chunks who-has 3f1c…e9 --broker mqtt://hub:1883
  dameso chunks get 3f1c…e9 --broker mqtt://hub:1883 --out chunk.cbor
  dameso chunks pull --node pi-7 --out ./pi-7-chunks --broker mqtt://hub:1883
  dameso chunks decode ./pi-7-chunks/* > pi-7.jsonl
  dameso chunks ls --data /var/lib/dameso --json
  dameso chunks get 3f1c…e9 --broker mqtt://hub:1883 --id ops --password-file ~/.dameso/ops.secret
  dameso chunks who-has 3f1c…e9 --broker mqtts://hub:8883 --ca ~/.dameso/ca.crt
  dameso chunks who-has 3f1c…e9 --broker mqtt://hub:1883 --prefix fleet1   (fleet1's storage nodes)

Exit codes: 0 ok; 1 a push fell short of K replicas; 64 bad flags; 65 (decode) a file is not a
chunk or does not hash to its id; 69 broker unreachable, fewer than K storage nodes online (push), or
no holder delivered a verified copy; 78 unreadable --password-file or --ca, the broker refused the
password, or its TLS certificate did not verify against --ca.`,
    );

  registerPush(chunks);
  registerGet(chunks);
  registerPull(chunks);
  registerDecode(chunks);
  registerWhoHas(chunks);
  registerLs(chunks);
}

type PushFlags = NetFlags & {
  data: string;
  id: string;
  replicas: string;
  fromSeq?: string;
  toSeq?: string;
  maxEntries: string;
  maxBytes: string;
  window: string;
};

function registerPush(chunks: Command): void {
  const push = chunks
    .command('push')
    .description(
      "cut a node's series into chunks and push each to K bt nodes (store_chunk until K said YES); " +
        "by default pushes what was not yet fully replicated. Run it on a stopped node's data folder " +
        '(a running node backs itself up: dameso node --replicate K). With fewer than K bt nodes online it ' +
        'pushes nothing, says so and exits 69; the summary says which part of the range is now covered. ' +
        '--window chunks are in flight at once; a progress line goes to stderr once a second (not with --json)',
    )
    .requiredOption('--data <dir>', "the node's data folder (its series is <dir>/series)")
    .requiredOption('--id <node>', 'the id of the node whose series it is (stamped into each chunk)');
  netFlags(push, { id: false });
  push
    .option('--replicas <k>', 'replication target K', String(DEFAULT_REPLICAS))
    .option('--from-seq <n>', 'first seq to push (default: after the last fully replicated push)')
    .option('--to-seq <n>', 'last seq to push (default: the last entry)')
    .option('--max-entries <n>', 'most entries per chunk', String(DEFAULT_CHUNK_MAX_ENTRIES))
    .option('--max-bytes <n>', 'most encoded entry bytes per chunk', String(DEFAULT_CHUNK_MAX_BYTES))
    .option('--window <n>', 'chunks in flight at once (memory: this many chunks)', String(DEFAULT_PUSH_WINDOW))
    .option('--json', 'print one JSON object')
    .action(runPush);
}

async function runPush(f: PushFlags): Promise<void> {
  const replicas = int('--replicas', f.replicas, 1) ?? DEFAULT_REPLICAS;
  // A folder with no series would get a fresh one and push its own bookkeeping: refuse (65).
  await requireSeriesIn(f.data, '--data');
  const range = { fromSeq: int('--from-seq', f.fromSeq, 1), toSeq: int('--to-seq', f.toSeq, 1) };
  // A push of a whole ring takes a while (seconds, longer on a board): say where
  // it is once a second on stderr, so stdout stays the result alone.
  let latest: PushSeriesProgress | undefined;
  const { res, online } = await withProgress(
    f.json,
    (ms) => (latest ? pushProgressLine(latest, ms) : undefined),
    withNode(
      {
        ...(await netNode(f)),
        dataDir: f.data,
        chunks: {
          replicas,
          maxEntries: int('--max-entries', f.maxEntries, 1),
          maxBytes: int('--max-bytes', f.maxBytes, 1),
          pushWindow: int('--window', f.window, 1),
        },
      },
      async (c) => {
        const online = c.storageNodes();
        // Fewer holders than K: every chunk would fall short, and none would move the mark.
        if (online.length < replicas) return { online, res: unpushed(c.pushRange(range)) };
        return { online, res: await c.pushSeries(range, { onProgress: (p) => (latest = p) }) };
      },
    ),
  );
  printPush(res, online, replicas, f.json);
}

/** The push's summary on stdout; its exit code (69 too few storage nodes, 1 short of K). */
function printPush(res: PushSeriesResult, online: string[], replicas: number, json: boolean | undefined): void {
  const few = online.length < replicas ? tooFewLine(online, replicas) : undefined;
  if (few) {
    process.stderr.write(`dameso: ${few} [DAMESO_TOO_FEW_STORAGE_NODES]\n`);
    process.exitCode = EXIT.unavailable;
  } else if (res.chunks.some((c) => !c.met)) process.exitCode = 1;
  const covered = coverage(res);
  if (json) {
    out(JSON.stringify({ ...res, covered, replicas, online }));
    return;
  }
  out(`${coverageLine(res, covered)}, ${res.chunks.length} chunk(s)`);
  for (const c of res.chunks) {
    const refused = c.refused.map((r) => `${r.node}:${r.reason}`).join(',');
    out(
      `${c.id} ${c.size} B  holders=${c.holders.join(',') || '-'}${c.met ? '' : '  (short of K)'}${refused ? `  no=${refused}` : ''}`,
    );
  }
}

type GetFlags = NetFlags & { id?: string; out?: string; deadline: string };

function registerGet(chunks: Command): void {
  const get = chunks
    .command('get')
    .argument('<id>', 'chunk id (64 hex)')
    .description(
      'fetch a chunk: ask its announced holders (online first) one by one, or every bt node when ' +
        'nobody announced it; bytes that do not hash to the id are rejected and the next holder asked',
    );
  netFlags(get);
  get
    .option('--out <file>', 'write the raw chunk bytes here')
    .option('--deadline <ms>', 'how long each holder gets to answer, ms', String(DEFAULT_FETCH_DEADLINE_MS))
    .option('--json', 'print one JSON object (with the decoded chunk unless --out)')
    .action(runGet);
}

async function runGet(idArg: string, f: GetFlags): Promise<void> {
  const id = chunkIdArg(idArg);
  // A wrong --out is found before the network wait, not after it with the bytes in hand.
  if (f.out) await checkOutputPath('--out', f.out);
  let res: FetchResult;
  try {
    const deadlineMs = int('--deadline', f.deadline, 1);
    res = await withNode(await netNode(f), (c) => c.fetch(id, { deadlineMs }));
  } catch (err) {
    if (!(err instanceof ChunkNotFoundError)) throw err;
    process.stderr.write(`dameso: ${err.message} [${err.code}]\n`);
    process.exitCode = EXIT.unavailable;
    return;
  }
  if (f.out) await writeFileAtomic('--out', f.out, res.bytes);
  const summary = { id, from: res.from, size: res.bytes.length, attempts: res.attempts };
  if (f.json) return out(JSON.stringify(f.out ? summary : { ...summary, chunk: decodeChunk(res.bytes) }));
  out(`${id}: ${res.bytes.length} B from ${res.from} after ${res.attempts.length} attempt(s)`);
  for (const a of res.attempts) out(`  ${a.node}: ${a.result}${a.reason ? ` (${a.reason})` : ''}`);
  if (!f.out) {
    const m = decodeChunk(res.bytes);
    out(
      `  node ${m.node}, seq ${m.first_seq}..${m.last_seq}, ${m.events.length} entries (use --out FILE for the bytes)`,
    );
  }
}

function registerWhoHas(chunks: Command): void {
  const whoHas = chunks
    .command('who-has')
    .argument('<id>', 'chunk id (64 hex)')
    .description('list the nodes announcing a chunk (retained `have` records), online ones first');
  netFlags(whoHas);
  whoHas.option('--json', 'print one JSON object').action(async (idArg: string, f: NetFlags & { id?: string }) => {
    const id = chunkIdArg(idArg);
    const holders = await withNode(await netNode(f), (c) => c.whoHas(id));
    if (f.json) return out(JSON.stringify({ id, holders }));
    if (holders.length === 0) out(`${id}: nobody announces it`);
    for (const h of holders) out(`${h.node}  ${h.size} B  ${h.online ? 'online' : 'offline'}`);
  });
}

function registerLs(chunks: Command): void {
  chunks
    .command('ls')
    .description('list the chunks a node holds, from its series (the node may be running: read-only)')
    .requiredOption('--data <dir>', "the node's data folder")
    .option('--json', 'print one JSON object')
    .action(async (f: { data: string; json?: boolean }) => {
      const series = createSeries({
        dir: await requireSeriesIn(f.data, '--data'),
        views: [chunksView as View<unknown>],
        readOnly: true,
      });
      await series.open();
      const state = series.view<ChunksState>(chunksView.name);
      await series.close();
      const held = Object.entries(state.held)
        .map(([id, m]) => ({ id, ...m }))
        .sort((a, b) => a.stored_seq - b.stored_seq);
      if (f.json)
        return out(
          JSON.stringify({ dir: join(f.data, CHUNKS_DIR_NAME), count: state.count, bytes: state.bytes, chunks: held }),
        );
      out(`${state.count} chunk(s), ${state.bytes} B in ${join(f.data, CHUNKS_DIR_NAME)}`);
      for (const c of held)
        out(`${c.id} ${c.size} B  ${c.node} seq ${c.first_seq}..${c.last_seq}  ${c.types.join(',')}`);
    });
}

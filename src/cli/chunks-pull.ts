/**
 * `dameso chunks pull`: the chunks matching a filter, back from the storage nodes into a folder
 * (src/chunks/pull.ts): how a dead board's series is recovered. Resumable: chunks already in the
 * folder and sound are kept.
 */
import type { Command } from 'commander';
import {
  type ChunkFilter,
  DEFAULT_FETCH_DEADLINE_MS,
  DEFAULT_PULL_WINDOW,
  type PullProgress,
  parseFilter,
} from '../chunks/index.js';
import { DamesoError } from '../errors.js';
import { isNodeId } from '../protocol/index.js';
import { int, type NetFlags, netFlags, netNode, out, withNode, withProgress } from './chunks-net.js';
import { EXIT } from './exit.js';
import { checkOutputDir } from './out-file.js';

interface PullFlags extends NetFlags {
  out: string;
  node?: string;
  event?: string;
  fromT?: string;
  toT?: string;
  window: string;
  deadline: string;
}

/** `pulling: 40/120 chunks, 2.5 MB after 3 s`. */
export function pullProgressLine(p: PullProgress, elapsedMs: number): string {
  return `pulling: ${p.done}/${p.total} chunks, ${(p.bytes / 1e6).toFixed(1)} MB after ${Math.round(elapsedMs / 1000)} s`;
}

function filterOf(f: PullFlags): ChunkFilter {
  const filter: ChunkFilter = {};
  if (f.node !== undefined) filter.node = f.node;
  if (f.event !== undefined) filter.event = f.event;
  const fromT = int('--from-t', f.fromT, 0);
  const toT = int('--to-t', f.toT, 0);
  if (fromT !== undefined) filter.from_t = fromT;
  if (toT !== undefined) filter.to_t = toT;
  // An empty filter would pull every chunk of the fleet: say so explicitly instead.
  if (Object.keys(filter).length === 0) {
    throw new DamesoError('DAMESO_USAGE', 'give at least one of --node, --event, --from-t, --to-t');
  }
  // What the bt nodes would refuse (NO bad_request) is refused here, with the reason.
  if (parseFilter(filter) === undefined || (filter.node !== undefined && !isNodeId(filter.node))) {
    throw new DamesoError(
      'DAMESO_USAGE',
      `--node must be a node id and --event 1-64 characters: ${JSON.stringify(filter)}`,
    );
  }
  return filter;
}

export function registerPull(chunks: Command): void {
  const pull = chunks
    .command('pull')
    .description(
      'fetch every chunk matching a filter from the bt nodes into a folder (want_chunks, then each ' +
        'chunk verified against its id and written atomically as <out>/<id>); chunks already there ' +
        'and sound are kept, so running it again resumes. A progress line goes to stderr once a ' +
        'second (not with --json)',
    )
    .requiredOption('--out <dir>', 'folder to write the chunks into (created if missing)')
    .option('--node <id>', 'only chunks cut from this node’s series')
    .option('--event <type>', 'only chunks holding this event type')
    .option('--from-t <ms>', 'only chunks with entries at or after this time (ms since the epoch)')
    .option('--to-t <ms>', 'only chunks with entries at or before this time (ms since the epoch)');
  netFlags(pull);
  pull
    .option('--window <n>', 'chunks fetched at once', String(DEFAULT_PULL_WINDOW))
    .option(
      '--deadline <ms>',
      'how long the bt nodes, then each holder, get to answer, ms',
      String(DEFAULT_FETCH_DEADLINE_MS),
    )
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Examples:
  dameso chunks pull --node pi-7 --out ./pi-7-chunks --broker mqtt://hub:1883
  dameso chunks pull --node pi-7 --event gps --from-t 1767225600000 --out ./gps --json

Exit codes: 0 every matching chunk is in the folder (or nothing matched); 64 bad flags; 69 broker
unreachable, or some chunk could not be fetched (run it again to retry those).`,
    )
    .action(async (f: PullFlags) => {
      const filter = filterOf(f);
      await checkOutputDir('--out', f.out);
      const window = int('--window', f.window, 1);
      const deadlineMs = int('--deadline', f.deadline, 1);
      let latest: PullProgress | undefined;
      const res = await withProgress(
        f.json,
        (ms) => (latest ? pullProgressLine(latest, ms) : undefined),
        withNode(await netNode(f), (c) =>
          c.pull(filter, f.out, { window, deadlineMs, onProgress: (p) => (latest = p) }),
        ),
      );
      if (res.failed.length > 0) process.exitCode = EXIT.unavailable;
      if (f.json) return out(JSON.stringify({ out: f.out, filter, ...res }));
      const mb = (res.fetched.reduce((n, c) => n + c.size, 0) / 1e6).toFixed(1);
      out(
        `${res.ids.length} chunk(s) matching ${JSON.stringify(filter)} on ${res.answered} of ${res.asked} bt node(s): ` +
          `${res.fetched.length} fetched (${mb} MB), ${res.present.length} already in ${f.out}, ${res.failed.length} failed`,
      );
      for (const x of res.refused) out(`  ${x.node} answered NO (${x.reason})`);
      for (const x of res.failed) out(`  failed ${x.id}: ${x.error}`);
      if (res.truncated)
        out('  a node answered with as many ids as one answer holds: narrow the filter (--from-t/--to-t) for the rest');
    });
}

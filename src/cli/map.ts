/**
 * `dameso map`: the consensus map from a node's series, as a text table, GeoJSON (one Feature per
 * cell and metric: a Polygon from the geohash box; properties value, spread, responders, method),
 * one self-contained HTML page, CSV, or the raw observations as GeoJSON Points.
 */
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { DamesoError } from '../errors.js';
import { SERIES_SUBDIR } from '../node/constants.js';
import {
  CONSENSUS_EVENT,
  consensusMap,
  type MapCollection,
  mapCsv,
  mapHtml,
  NoConsensusError,
  OBSERVATION_EVENT,
  observationPoints,
} from '../observe/index.js';
import { createSeries, type Entry } from '../series/index.js';
import { requireSeriesIn } from './fs-errors.js';
import { checkOutputPath, writeFileAtomic } from './out-file.js';

interface MapFlags {
  data: string;
  metric?: string;
  geojson?: string;
  html?: string;
  csv?: string;
  points?: boolean;
  json?: boolean;
}

const usage = (msg: string) => new DamesoError('DAMESO_USAGE', msg);

/** The output files asked for, as [flag, path]. */
function outputs(flags: MapFlags): [string, string][] {
  const all: [string, string | undefined][] = [
    ['--geojson', flags.geojson],
    ['--html', flags.html],
    ['--csv', flags.csv],
  ];
  return all.filter((o): o is [string, string] => o[1] !== undefined);
}

/** `-` as an output path: that output goes to stdout (and nothing else does). */
export const STDOUT_PATH = '-';

function checkFlags(flags: MapFlags): void {
  const toStdout = outputs(flags).filter(([, path]) => path === STDOUT_PATH);
  if (toStdout.length > 1)
    throw usage(`only one output can go to stdout (-), got ${toStdout.map(([f]) => f).join(', ')}`);
  if (toStdout.length === 1 && flags.json) throw usage(`${toStdout[0]?.[0]} - prints on stdout: drop --json`);
  if (!flags.points) return;
  if (flags.html !== undefined || flags.csv !== undefined) {
    throw usage('--points gives GeoJSON Points: use it with --geojson FILE or --json, not --html/--csv');
  }
  if (flags.geojson === undefined && !flags.json) throw usage('--points needs --geojson FILE or --json');
}

/** The entries of one event, read-only: never truncates or appends, safe beside a running node. */
async function readEvent(dir: string, event: string): Promise<Entry[]> {
  const series = createSeries({ dir, readOnly: true });
  await series.open();
  const entries: Entry[] = [];
  try {
    for await (const e of series.read({ event })) entries.push(e);
  } finally {
    await series.close();
  }
  return entries;
}

async function pointsCmd(dir: string, flags: MapFlags): Promise<void> {
  const points = observationPoints(await readEvent(dir, OBSERVATION_EVENT), flags.metric);
  const n = points.features.length;
  if (flags.geojson !== undefined) {
    await writeOutput('--geojson', flags.geojson, `${JSON.stringify(points, null, 2)}\n`);
    if (flags.geojson === STDOUT_PATH) return;
    process.stdout.write(
      flags.json
        ? `${JSON.stringify({ file: flags.geojson, points: n })}\n`
        : `wrote ${n} point(s) to ${flags.geojson}\n`,
    );
    return;
  }
  process.stdout.write(`${JSON.stringify(points)}\n`);
}

/** Write one output: to stdout for `-`, else atomically to its file. */
async function writeOutput(flag: string, path: string, text: string): Promise<void> {
  if (path === STDOUT_PATH) process.stdout.write(text);
  else await writeFileAtomic(flag, path, text);
}

/** Write the files asked for; returns a summary of what went where. */
async function writeOutputs(map: MapCollection, flags: MapFlags): Promise<Record<string, string>> {
  const written: Record<string, string> = {};
  if (flags.geojson !== undefined) {
    await writeOutput('--geojson', flags.geojson, `${JSON.stringify(map, null, 2)}\n`);
    written.file = flags.geojson;
  }
  if (flags.html !== undefined) {
    await writeOutput('--html', flags.html, mapHtml(map, { node: basename(resolve(flags.data)) }));
    written.html = flags.html;
  }
  if (flags.csv !== undefined) {
    await writeOutput('--csv', flags.csv, mapCsv(map));
    written.csv = flags.csv;
  }
  return written;
}

async function mapCmd(flags: MapFlags): Promise<void> {
  checkFlags(flags);
  const dir = await requireSeriesIn(flags.data, '--data');
  // Paths first: a wrong one costs one line, not a read of the whole series.
  for (const [flag, path] of outputs(flags)) if (path !== STDOUT_PATH) await checkOutputPath(flag, path);
  if (flags.points) return pointsCmd(dir, flags);
  const map = consensusMap(await readEvent(dir, CONSENSUS_EVENT), flags.metric);
  if (map.features.length === 0) throw new NoConsensusError(dir, flags.metric);
  const written = await writeOutputs(map, flags);
  // The output on stdout is the whole of stdout: no summary or table around it.
  if (outputs(flags).some(([, path]) => path === STDOUT_PATH)) return;
  const files = Object.values(written);
  if (flags.json) {
    process.stdout.write(
      files.length > 0
        ? `${JSON.stringify({ ...written, features: map.features.length })}\n`
        : `${JSON.stringify(map)}\n`,
    );
    return;
  }
  for (const f of files) process.stdout.write(`wrote ${map.features.length} feature(s) to ${f}\n`);
  printTable(map);
}

/** The map as a text table on stdout. */
function printTable(map: MapCollection): void {
  const rows = map.features.map((f) => {
    const p = f.properties;
    const head = `${p.cell.padEnd(12)} ${p.metric.padEnd(12)} ${p.value.toFixed(3).padStart(12)}`;
    const tail = `${String(p.n).padStart(4)}  ${p.method}`;
    // Too few responders: no spread is claimed (its column stays empty), and the row says why.
    if (p.lowConfidence)
      return `${head}  ${'-'.padEnd(9)} ${tail}  low confidence (n=${p.n} < ${p.minResponders ?? '?'})`;
    return `${head} ±${p.spread.toFixed(3).padEnd(9)} ${tail}`;
  });
  process.stdout.write(
    `${'cell'.padEnd(12)} ${'metric'.padEnd(12)} ${'value'.padStart(12)}  ${'spread'.padEnd(9)} ${'resp'.padStart(4)}  method\n${rows.join('\n')}\n`,
  );
}

export function registerMap(program: Command): void {
  program
    .command('map')
    .description(
      "Print the consensus map from a node's series: the newest consensus of each geohash cell " +
        '(value, spread, responders, method). --geojson writes RFC 7946 GeoJSON (one Polygon per cell), ' +
        '--html one self-contained page, --csv a table; --points gives the raw observations as Points.',
    )
    // Required: a cwd-relative default read whatever `./data` happened to be.
    .requiredOption('--data <dir>', `the node's data folder (its series is <dir>/${SERIES_SUBDIR})`)
    .option('--metric <name>', 'only this metric (e.g. temp)')
    .option('--geojson <file>', 'write the GeoJSON FeatureCollection to this file; - for stdout')
    .option('--html <file>', 'write one self-contained HTML page (no network needed) with the map')
    .option('--csv <file>', 'write one row per cell and metric (RFC 4180; lat/lon = cell centre); - for stdout')
    .option('--points', 'the raw observations as GeoJSON Points instead of the consensus (with --geojson or --json)')
    .option('--json', 'print JSON on stdout (the GeoJSON, or a summary when files are written)')
    .addHelpText(
      'after',
      `
Files are written whole (a temp file, then a rename); a missing folder or a folder given as
the file is refused before the series is read (exit 73). Read-only: safe beside a running node.

Examples:
  dameso map --data /var/lib/dameso --metric temp --geojson map.geojson
  dameso map --data /var/lib/dameso --html map.html       # open it from a USB stick, no network
  dameso map --data /var/lib/dameso --csv map.csv         # QGIS: delimited text, X=lon Y=lat
  dameso map --data /var/lib/dameso --points --geojson observations.geojson
  dameso map --data /var/lib/dameso --points --json | jq '.features | length'`,
    )
    .action(mapCmd);
}

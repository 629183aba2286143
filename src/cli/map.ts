/**
 * `dameso map`: the consensus map from a node's series, as GeoJSON (one Feature per cell and
 * metric: a Polygon from the geohash box; properties value, spread, responders, method).
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { SERIES_SUBDIR } from '../node/constants.js';
import { consensusMap, NoConsensusError } from '../observe/index.js';
import { createSeries } from '../series/index.js';
import type { Entry } from '../series/types.js';
import { requireSeriesIn } from './fs-errors.js';

interface MapFlags {
  data: string;
  metric?: string;
  geojson?: string;
  json?: boolean;
}

async function mapCmd(flags: MapFlags): Promise<void> {
  const dir = await requireSeriesIn(flags.data, '--data');
  // Read-only: never truncates or appends, safe beside a running node.
  const series = createSeries({ dir, readOnly: true });
  await series.open();
  const entries: Entry[] = [];
  try {
    for await (const e of series.read({ event: 'consensus' })) entries.push(e);
  } finally {
    await series.close();
  }
  const map = consensusMap(entries, flags.metric);
  if (map.features.length === 0) throw new NoConsensusError(dir, flags.metric);
  const text = `${JSON.stringify(map, null, flags.geojson ? 2 : undefined)}\n`;
  if (flags.geojson) await writeFile(flags.geojson, text);
  if (flags.json) {
    process.stdout.write(
      flags.geojson ? `${JSON.stringify({ file: flags.geojson, features: map.features.length })}\n` : text,
    );
    return;
  }
  if (flags.geojson) process.stdout.write(`wrote ${map.features.length} feature(s) to ${flags.geojson}\n`);
  const rows = map.features.map((f) => {
    const p = f.properties;
    const head = `${p.cell.padEnd(12)} ${p.metric.padEnd(12)} ${p.value.toFixed(3).padStart(12)}`;
    // Too few responders: the value is shown, its spread is not claimed.
    if (p.lowConfidence) return `${head}  low confidence (n=${p.n} < ${p.minResponders ?? '?'})`;
    return `${head} ±${p.spread.toFixed(3).padEnd(9)} ${String(p.n).padStart(4)}  ${p.method}`;
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
        '(value, spread, responders, method). --geojson writes RFC 7946 GeoJSON, one Polygon per cell.',
    )
    // Required: a cwd-relative default read whatever `./data` happened to be.
    .requiredOption('--data <dir>', `the node's data folder (its series is <dir>/${SERIES_SUBDIR})`)
    .option('--metric <name>', 'only this metric (e.g. temp)')
    .option('--geojson <file>', 'write the GeoJSON FeatureCollection to this file')
    .option('--json', 'print JSON on stdout (the GeoJSON, or a summary when --geojson is given)')
    .addHelpText('after', '\nExample:\n  dameso map --data /var/lib/dameso --metric temp --geojson map.geojson')
    .action(mapCmd);
}

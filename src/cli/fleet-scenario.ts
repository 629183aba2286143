/**
 * The scenario flags of `dameso fleet` and `--scenario FILE` (JSON, one key per setting, each
 * named with its unit): both go through one table, so a flag and its key always parse the same
 * way. A flag on the command line beats the file's key; the file beats the default. A bad flag is
 * one `[DAMESO_USAGE]` line (exit 64), a bad or unknown key one `[DAMESO_BAD_CONFIG]` line (78).
 */
import type { Command } from 'commander';
import * as z from 'zod';
import { ConfigError, DamesoError } from '../errors.js';
import type { ScenarioOptions, ScenarioRun } from '../fleet/index.js';
import { checksText, DEFAULT_SCENARIO, reportHtml } from '../fleet/index.js';
import { parseConfigJson, readConfigSource } from './config-file.js';
import { checkOutputPath, writeFileAtomic } from './out-file.js';

type Key = Exclude<keyof ScenarioOptions, 'nodes' | 'roles'>;
/** The numeric settings a file or the flags give (`killEveryS` included). */
export type ScenarioNumbers = Partial<Record<Key | 'killEveryS', number>>;

/** `share`: a fraction in (0,1) of the eligible nodes or a whole count; `whole`: a whole number; `number`: >= 0. */
type Kind = 'share' | 'whole' | 'number';

interface Setting {
  key: Key;
  flag: string;
  arg: string;
  kind: Kind;
  what: string;
}

/** Every scenario setting: its flag, its key in --scenario FILE (with the unit in its name), how it parses. */
export const SCENARIO_SETTINGS: readonly Setting[] = [
  {
    key: 'bt',
    flag: '--bt',
    arg: 'n',
    kind: 'share',
    what: 'storage-only nodes (the rest not --mappers serve both roles)',
  },
  { key: 'mappers', flag: '--mappers', arg: 'n', kind: 'share', what: 'mapper-only nodes (simulated sensors)' },
  {
    key: 'cells',
    flag: '--cells',
    arg: 'n',
    kind: 'whole',
    what: 'cells of the synthetic field the mappers stand in (default one per 8 mappers)',
  },
  { key: 'fieldSeed', flag: '--field', arg: 'seed', kind: 'whole', what: 'seed of where the cells lie on the field' },
  {
    key: 'liars',
    flag: '--liars',
    arg: 'f',
    kind: 'share',
    what: 'mappers whose sensor is biased (fraction or count)',
  },
  { key: 'copiers', flag: '--copiers', arg: 'f', kind: 'share', what: 'liars that repeat another liar exactly' },
  { key: 'liarBiasUnits', flag: '--liar-bias', arg: 'units', kind: 'number', what: "added to a liar's readings" },
  { key: 'noiseSigmaUnits', flag: '--noise', arg: 'units', kind: 'number', what: 'honest sensor noise (sd)' },
  { key: 'silent', flag: '--silent', arg: 'f', kind: 'share', what: 'nodes online that never answer' },
  { key: 'slow', flag: '--slow', arg: 'f', kind: 'share', what: 'nodes that answer near the deadline' },
  { key: 'slowDelayMs', flag: '--slow-delay', arg: 'ms', kind: 'number', what: 'how long a slow node holds an answer' },
  { key: 'surveyEveryS', flag: '--survey-every', arg: 's', kind: 'number', what: 'seconds between survey rounds' },
  { key: 'minResponders', flag: '--min-responders', arg: 'n', kind: 'whole', what: 'fewest responders trusted' },
  { key: 'replicate', flag: '--replicate', arg: 'k', kind: 'whole', what: 'storage nodes each node backs up to' },
  { key: 'diskFull', flag: '--disk-full', arg: 'n', kind: 'share', what: 'storage nodes with a tiny budget' },
  { key: 'diskBudgetBytes', flag: '--disk-budget', arg: 'bytes', kind: 'whole', what: "a disk-full node's budget" },
  {
    key: 'brokerRestartEveryS',
    flag: '--broker-restart-every',
    arg: 's',
    kind: 'number',
    what: 'restart the embedded broker (0 = never)',
  },
  {
    key: 'stallEveryS',
    flag: '--stall-every',
    arg: 's',
    kind: 'number',
    what: 'stall the proxy in front of --stall-nodes (0 = never)',
  },
  { key: 'stallForS', flag: '--stall-for', arg: 's', kind: 'number', what: 'how long each stall lasts' },
  {
    key: 'stallNodes',
    flag: '--stall-nodes',
    arg: 'f',
    kind: 'share',
    what: 'nodes behind the stall proxy (default 10 %)',
  },
  {
    key: 'reputationRounds',
    flag: '--reputation-rounds',
    arg: 'n',
    kind: 'whole',
    what: 'rounds within which liars must rank below every honest node',
  },
  {
    key: 'truthToleranceUnits',
    flag: '--truth-tolerance',
    arg: 'units',
    kind: 'number',
    what: 'largest consensus error per cell accepted',
  },
  { key: 'seed', flag: '--seed', arg: 'x', kind: 'whole', what: 'seed of the whole plan (roles, liars, faults)' },
];

/** The keys --scenario FILE takes: every setting plus `killEveryS` (the `--kill-every` flag's). */
const scenarioSchema = z.strictObject({
  ...Object.fromEntries(SCENARIO_SETTINGS.map((s) => [s.key, z.number({ error: `expected a number (${s.arg})` })])),
  killEveryS: z.number({ error: 'expected a number (s)' }),
});

/** Why `v` is not a valid value of `kind`, or undefined when it is. */
function problem(kind: Kind, v: number): string | undefined {
  if (!Number.isFinite(v) || v < 0) return 'must be a number >= 0';
  if (kind === 'whole' && !Number.isInteger(v)) return 'must be a whole number';
  if (kind === 'share' && v >= 1 && !Number.isInteger(v)) return 'must be a fraction in (0,1) or a whole count';
  return undefined;
}

function fromFlag(s: Setting, raw: string): number {
  const v = Number(raw);
  const why = raw.trim() === '' ? 'must be a number >= 0' : problem(s.kind, v);
  if (why !== undefined) throw new DamesoError('DAMESO_USAGE', `${s.flag}: ${why} (${s.arg}), got "${raw}"`);
  return v;
}

/** Reads and checks `--scenario FILE`: unknown keys and bad values are one ConfigError line. */
export async function readScenarioFile(file: string): Promise<ScenarioNumbers> {
  const source = await readConfigSource(file).catch(() => {
    throw new ConfigError('--scenario', `cannot read ${file}`);
  });
  const data = parseConfigJson(scenarioSchema, source, file) as Record<string, number>;
  for (const s of SCENARIO_SETTINGS) {
    const v = data[s.key];
    const why = v === undefined ? undefined : problem(s.kind, v);
    if (why !== undefined) throw new ConfigError(s.key, `${why} (${s.arg}) in ${file}, got ${v}`);
  }
  if (data.killEveryS !== undefined && problem('number', data.killEveryS) !== undefined) {
    throw new ConfigError('killEveryS', `must be a number >= 0 (s) in ${file}, got ${data.killEveryS}`);
  }
  return data;
}

/**
 * The scenario from the command: `--scenario FILE` first, then every scenario flag given on the
 * command line over it (`cmd` tells a flag given from a default).
 */
export async function scenarioFromCommand(cmd: Command): Promise<ScenarioNumbers> {
  const flags = cmd.opts<Record<string, string | undefined>>();
  const file = flags.scenario === undefined ? {} : await readScenarioFile(flags.scenario);
  const out: Record<string, number> = { ...file };
  for (const s of SCENARIO_SETTINGS) {
    const name = camel(s.flag);
    const raw = flags[name];
    if (raw !== undefined && cmd.getOptionValueSource(name) === 'cli') out[s.key] = fromFlag(s, raw);
  }
  return out;
}

const camel = (flag: string): string => flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Adds the scenario flags (no commander defaults: an absent flag leaves the file's key or the default). */
export function addScenarioFlags(cmd: Command): Command {
  cmd.option('--scenario <file>', 'JSON scenario: every key below (units in the names); flags given beat it');
  for (const s of SCENARIO_SETTINGS) {
    const def = (DEFAULT_SCENARIO as Partial<Record<Key, number>>)[s.key];
    cmd.option(`${s.flag} <${s.arg}>`, `${s.what}${def === undefined ? '' : ` (default ${def})`}; file key "${s.key}"`);
  }
  return cmd;
}

export const SCENARIO_HELP = `
Scenario (counts marked f: a fraction in (0,1) of the eligible nodes, or a whole count):
  dameso fleet --nodes 60 --bt 10 --mappers 40 --cells 5 --field 7          roles and the field
  dameso fleet --nodes 60 --liars 0.3 --liar-bias 8 --copiers 2 --noise 1     liars and copiers
  dameso fleet --nodes 60 --silent 3 --slow 0.1 --slow-delay 800               silent and slow nodes
  dameso fleet --nodes 60 --survey-every 5 --min-responders 3 --reputation-rounds 3 --truth-tolerance 1
  dameso fleet --nodes 60 --replicate 2 --disk-full 2 --disk-budget 65536       backup, tiny disks
  dameso fleet --nodes 60 --broker-restart-every 20 --stall-every 15 --stall-for 4 --stall-nodes 5
  dameso fleet --nodes 60 --seed 42                                              the same plan again
  dameso fleet --scenario liars.json --liars 0.45                               a file, one key overridden
A scenario file holds any of the keys named above ("nodes" stays a flag), e.g.
  {"bt": 10, "mappers": 40, "cells": 5, "liars": 0.3, "liarBiasUnits": 8, "silent": 3,
   "slowDelayMs": 800, "stallEveryS": 15, "stallForS": 4, "killEveryS": 10, "seed": 42}
An unknown key or a bad value is one line naming the key (exit 78).

Checks, each printed "check ok|FAILED NAME: detail"; exit 1 unless all hold:
  classification  every expected node in exactly one of yes/no/silence/offline, silent nodes never
                  answer, offline only after the node's Will, no answer from a killed or stalled node
  truth           per cell, the robust consensus within --truth-tolerance of the ground truth
                  (beside the weighted mean, plain mean and plain median of the same values)
  reputation      every liar below every honest node within --reputation-rounds rounds
  storage         every series sound, evicted entries backed up, a killed node's chunks pulled
                  back and each hashed to its id
Report:
  dameso fleet --nodes 40 --liars 0.3 --json run.json --report run.html   # JSON summary + one HTML page
  dameso fleet --nodes 40 --json                                            # the JSON alone on stdout
`;

/** `--json FILE` (a file; bare `--json` prints to stdout) and `--report FILE.html`: checked before the run. */
export async function checkReportPaths(flags: { json?: boolean | string; report?: string }): Promise<void> {
  if (typeof flags.json === 'string') await checkOutputPath('--json', flags.json);
  if (flags.report !== undefined) await checkOutputPath('--report', flags.report);
}

/** Writes the scenario's outputs; `stdout` is what the terminal gets (the summary text or, with bare --json, the JSON). */
export async function writeScenarioOutputs(
  run: ScenarioRun,
  flags: { json?: boolean | string; report?: string },
  summaryText: string,
): Promise<string> {
  const json = `${JSON.stringify({ ...run.summary, ok: run.ok, report: run.report })}\n`;
  if (typeof flags.json === 'string') await writeFileAtomic('--json', flags.json, json);
  if (flags.report !== undefined) await writeFileAtomic('--report', flags.report, reportHtml(run.report));
  if (flags.json === true) return json;
  const files = [
    typeof flags.json === 'string' ? `json ${flags.json}` : '',
    flags.report !== undefined ? `report ${flags.report}` : '',
  ].filter((x) => x !== '');
  // The integrity text already says where a failed run's data is kept; a failed check says it here.
  const kept = !run.ok && run.summary.ok ? `data kept for inspection in ${run.summary.dataDir}\n` : '';
  return summaryText + checksText(run.report) + (files.length > 0 ? `written: ${files.join(', ')}\n` : '') + kept;
}

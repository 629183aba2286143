/**
 * `npm run bench`: every benchmark, one after the other (never side by side: each compares itself
 * with a baseline measured in the same run, and two benches at once would load each other's
 * baseline unequally). Prints one JSON object `{machine, benches: {name: result}}` on stdout and
 * writes each result to `bench-results/<name>.json`. Progress goes to stderr.
 *
 *   npm run bench                    # all
 *   npm run bench -- series intents  # some
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';

const ALL = ['series', 'intents', 'limiters', 'chunks', 'consensus', 'survey'] as const;
const RESULTS_DIR = 'bench-results';

function runBench(name: string): Promise<{ ok: true; result: unknown } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('test', 'bench', `${name}.bench.ts`)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.on('close', (code) => {
      if (code !== 0) return resolve({ ok: false, error: `exit code ${code}` });
      try {
        resolve({ ok: true, result: JSON.parse(out) });
      } catch {
        resolve({ ok: false, error: `stdout was not one JSON object: ${out.slice(0, 200)}` });
      }
    });
  });
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(ALL as readonly string[]).includes(w));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench: ${unknown.join(', ')} (known: ${ALL.join(', ')})\n`);
  process.exit(64);
}
const names = wanted.length > 0 ? wanted : [...ALL];
mkdirSync(RESULTS_DIR, { recursive: true });
const benches: Record<string, unknown> = {};
let failed = 0;
for (const [i, name] of names.entries()) {
  process.stderr.write(`bench ${i + 1}/${names.length}: ${name}…\n`);
  const started = performance.now();
  const r = await runBench(name);
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  if (r.ok) {
    benches[name] = r.result;
    writeFileSync(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(r.result, null, 2)}\n`);
    process.stderr.write(`bench ${name}: done in ${seconds} s\n`);
  } else {
    failed += 1;
    benches[name] = { error: r.error };
    process.stderr.write(`bench ${name}: FAILED (${r.error})\n`);
  }
}
const machine = {
  node: process.version,
  cpus: cpus().length,
  memGiB: Math.round(totalmem() / 2 ** 30),
  loadavg: loadavg(),
};
process.stdout.write(`${JSON.stringify({ machine, benches }, null, 2)}\n`);
process.exitCode = failed > 0 ? 1 : 0;

/**
 * How child processes run the bench's code: from the compiled dist/ when it is up to date with the
 * sources (plain `node`: about half the start-up CPU and 30 MB less per process than tsx, which
 * counts at 100 responders), else from the sources with `node --import tsx`. BENCH_CHILDREN=dist|tsx
 * forces one; BENCH_CHILD_JS runs a bundle of child.ts instead; BENCH_DIST names another compiled tree (`npx tsc -p tsconfig.build.json --outDir X`). The requester always runs from the sources (this process): a stale dist/ would
 * compare two different versions of dameso, hence the freshness check.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { firstStaleSource } from '../../../src/fleet/runtime.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));
const BUILT_DIRS = ['src', 'broker', 'devices'];
/** The compiled tree (`npm run build`'s dist/ unless BENCH_DIST names another `tsc --outDir`). */
const DIST = path.resolve(REPO, process.env.BENCH_DIST ?? 'dist');

export interface ChildRuntime {
  readonly mode: 'dist' | 'tsx';
  readonly why: string;
  /** Node arguments that run the bench's `child.ts` (script arguments follow). */
  readonly nodeArgs: string[];
  /** Removes what was written for the children (sync: also called from signal handlers). */
  dispose(): void;
}

/**
 * A scratch tree mirroring the repository: src/, broker/, devices/ link to dist/, and the bench's
 * own files are transpiled next to them, so their relative imports land on the compiled code.
 * Under `.tmp/` (git-ignored) so that `mqtt` & co. resolve from the repository's node_modules.
 */
function distTree(): { script: string; dir: string } {
  mkdirSync(path.join(REPO, '.tmp'), { recursive: true });
  const dir = mkdtempSync(path.join(REPO, '.tmp', 'bench-intents-'));
  for (const d of BUILT_DIRS) symlinkSync(path.join(DIST, d), path.join(dir, d), 'dir');
  const out = path.join(dir, path.relative(REPO, HERE));
  mkdirSync(out, { recursive: true });
  for (const f of readdirSync(HERE).filter((f) => f.endsWith('.ts'))) {
    const js = ts.transpileModule(readFileSync(path.join(HERE, f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: f,
    }).outputText;
    writeFileSync(path.join(out, f.replace(/\.ts$/, '.js')), js);
  }
  return { script: path.join(out, 'child.js'), dir };
}

export function childRuntime(): ChildRuntime {
  const bundled = process.env.BENCH_CHILD_JS;
  if (bundled) {
    // child.ts bundled by the caller (bench:footprint): what a board runs, whatever dist/'s age.
    return { mode: 'dist', why: 'BENCH_CHILD_JS (child.ts bundled)', nodeArgs: [bundled], dispose: () => undefined };
  }
  const forced = process.env.BENCH_CHILDREN;
  const stale = forced ? undefined : firstStaleSource(REPO, DIST);
  if (forced === 'tsx' || (!forced && stale)) {
    return {
      mode: 'tsx',
      why: forced
        ? 'BENCH_CHILDREN=tsx'
        : `${path.relative(REPO, DIST)}/ is older than ${stale} (npm run build to use it)`,
      nodeArgs: ['--import', 'tsx', path.join(HERE, 'child.ts')],
      dispose: () => undefined,
    };
  }
  const { script, dir } = distTree();
  return {
    mode: 'dist',
    why: `${path.relative(REPO, DIST)}/ ${forced ? '(BENCH_CHILDREN=dist)' : 'is up to date with the sources'}`,
    nodeArgs: [script],
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * How the fleet runs its children: from the compiled tree when this code runs from it, or when
 * dist/ is up to date with the sources (plain `node`: about half the start-up CPU and less memory
 * than tsx); else from the sources with `node --import tsx`. DAMESO_FLEET_CHILDREN=dist|tsx forces
 * one. The same freshness rule as the intents bench (test/bench/intents/runtime.ts).
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DamesoError } from '../errors.js';

export interface FleetRuntime {
  readonly mode: 'dist' | 'tsx';
  readonly why: string;
  /** Node arguments that run `dameso` in a child (the command's arguments follow). */
  readonly nodeArgs: string[];
  /** Node arguments that run a fleet worker (worker-main). */
  readonly workerArgs: string[];
}

const HERE = fileURLToPath(new URL('.', import.meta.url));
const FROM_SOURCES = import.meta.url.endsWith('.ts');
/** The repository root: src/fleet/ from the sources, dist/src/fleet/ from the build. */
const REPO = path.resolve(HERE, FROM_SOURCES ? '../..' : '../../..');
const DIST = path.join(REPO, 'dist');
const BUILT_DIRS = ['src', 'broker', 'devices'];
/** V8 settings of a worker process: `gc` exposed, so the worker can compact its heap itself (worker.ts). */
const WORKER_V8_FLAGS = ['--expose-gc'];

/**
 * The first file under src/, broker/, devices/ of `repo` whose compiled output in `dist` is missing
 * or older (`.ts` → `.js`; `.json` board profiles are copied as they are); undefined if none. Also
 * used by the intents bench to decide whether its children may run from a compiled tree.
 */
export function firstStaleSource(repo: string, dist: string): string | undefined {
  const walk = (rel: string): string | undefined => {
    for (const e of readdirSync(path.join(repo, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) {
        const s = walk(r);
        if (s) return s;
        continue;
      }
      const out = r.endsWith('.json') ? r : r.endsWith('.ts') && !r.endsWith('.d.ts') ? r.replace(/\.ts$/, '.js') : '';
      if (!out) continue;
      const built = statSync(path.join(dist, out), { throwIfNoEntry: false });
      if (!built || built.mtimeMs < statSync(path.join(repo, r)).mtimeMs) return r;
    }
    return undefined;
  };
  for (const d of BUILT_DIRS) {
    const s = statSync(path.join(repo, d), { throwIfNoEntry: false }) ? walk(d) : undefined;
    if (s) return s;
  }
  return undefined;
}

/** Stamped by a bundle build (scripts/bundle.ts); absent when run from a checkout or dist/. */
declare const DAMESO_BUILD: object | undefined;

export function fleetRuntime(): FleetRuntime {
  if (typeof DAMESO_BUILD !== 'undefined') {
    // The board bundle is one file: the fleet's node and worker programs are not in it.
    throw new DamesoError(
      'DAMESO_USAGE',
      'dameso fleet runs from a checkout (npm ci; npm run dameso -- fleet), not from the board bundle',
    );
  }
  const dist = (why: string): FleetRuntime => ({
    mode: 'dist',
    why,
    nodeArgs: [path.join(DIST, 'src', 'fleet', 'child.js')],
    workerArgs: [...WORKER_V8_FLAGS, path.join(DIST, 'src', 'fleet', 'worker-main.js')],
  });
  if (!FROM_SOURCES) {
    return {
      mode: 'dist',
      why: 'the harness runs compiled',
      nodeArgs: [path.join(HERE, 'child.js')],
      workerArgs: [...WORKER_V8_FLAGS, path.join(HERE, 'worker-main.js')],
    };
  }
  const forced = process.env.DAMESO_FLEET_CHILDREN;
  if (forced === 'dist') return dist('DAMESO_FLEET_CHILDREN=dist');
  const stale = forced === 'tsx' ? undefined : firstStaleSource(REPO, DIST);
  if (forced !== 'tsx' && !stale) return dist('dist/ is up to date with the sources');
  return {
    mode: 'tsx',
    why: forced === 'tsx' ? 'DAMESO_FLEET_CHILDREN=tsx' : `dist/ is older than ${stale} (npm run build to use it)`,
    nodeArgs: ['--import', 'tsx', path.join(HERE, 'child.ts')],
    workerArgs: [...WORKER_V8_FLAGS, '--import', 'tsx', path.join(HERE, 'worker-main.ts')],
  };
}

/**
 * What `dameso --version` prints: the version from package.json (never a literal that drifts),
 * and where this build came from — the commit and build time a bundle stamps in at build, or the
 * commit of the git checkout it runs from.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Stamped by a bundle build (esbuild `define`, scripts/bundle.ts); absent when run from a checkout. */
declare const DAMESO_BUILD: { version: string; commit: string; builtAt: string } | undefined;

/** The nearest package.json above this module named `dameso` (src/cli, dist/src/cli or a bundle). */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'dameso' && typeof pkg.version === 'string') return pkg.version;
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

function checkoutCommit(): string | undefined {
  try {
    const root = dirname(fileURLToPath(import.meta.url));
    const out = execFileSync('git', ['-C', root, 'rev-parse', '--short=12', 'HEAD'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 2000,
    });
    return out.toString().trim() || undefined;
  } catch {
    return undefined; // not a checkout, or no git on the board
  }
}

export function versionLine(): string {
  const build = typeof DAMESO_BUILD === 'undefined' ? undefined : DAMESO_BUILD;
  // A bundle carries no package.json: its version was read from it at build.
  if (build) return `${build.version} (commit ${build.commit}, built ${build.builtAt})`;
  const version = packageVersion();
  const commit = checkoutCommit();
  return commit ? `${version} (commit ${commit}, from a checkout)` : version;
}

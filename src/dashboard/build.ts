/**
 * The dashboard page as files: `index.html`, `dashboard.css` and `app.js` (the page's TypeScript
 * with mqtt.js and cbor-x bundled by esbuild for the browser; nothing fetched from a CDN, so it
 * works in a field without internet). Built in memory at the first request when esbuild is
 * installed (a checkout), else read from `dist/dashboard/` (written by `npm run build:dashboard`).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DamesoError } from '../errors.js';
import { PAGE_DIST_DIR, PAGE_SOURCE_DIR, PAGE_TARGETS } from './constants.js';

export interface PageFiles {
  readonly 'index.html': string;
  readonly 'dashboard.css': string;
  readonly 'app.js': string;
}

export const PAGE_FILE_NAMES: readonly (keyof PageFiles)[] = ['index.html', 'dashboard.css', 'app.js'];

/** Stamped by a bundle build (scripts/bundle.ts); absent when run from a checkout or dist/. */
declare const DAMESO_BUILD: object | undefined;

/**
 * The repository (or installed package) root: src/dashboard/ and dist/src/dashboard/ both lead
 * there; the board bundle's folder (one JS file beside the prebuilt dist/dashboard/) when bundled.
 */
export function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  if (typeof DAMESO_BUILD !== 'undefined') return here;
  const up = here.includes(`${join('dist', 'src')}`) ? '../../..' : '../..';
  return resolve(here, up);
}

type Esbuild = typeof import('esbuild');

async function loadEsbuild(): Promise<Esbuild | undefined> {
  try {
    return await import('esbuild');
  } catch {
    return undefined; // an install without dev dependencies: the prebuilt files are served
  }
}

/** Bundles the page's script with esbuild, in memory. */
export async function bundlePage(esbuild: Esbuild, root: string): Promise<PageFiles> {
  const source = join(root, PAGE_SOURCE_DIR);
  const out = await esbuild.build({
    entryPoints: [join(source, 'main.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: PAGE_TARGETS,
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
  });
  const js = out.outputFiles[0]?.text ?? '';
  return {
    'index.html': await readFile(join(source, 'index.html'), 'utf8'),
    'dashboard.css': await readFile(join(source, 'dashboard.css'), 'utf8'),
    'app.js': js,
  };
}

async function readBuilt(root: string): Promise<PageFiles> {
  const dir = join(root, PAGE_DIST_DIR);
  try {
    const [html, css, js] = await Promise.all(PAGE_FILE_NAMES.map((f) => readFile(join(dir, f), 'utf8')));
    return { 'index.html': html as string, 'dashboard.css': css as string, 'app.js': js as string };
  } catch {
    throw new DamesoError(
      'DAMESO_DASHBOARD_UNBUILT',
      `the dashboard page is not built (${dir}) and esbuild is not installed to build it: run npm run build:dashboard`,
    );
  }
}

/** The page's files: bundled now when esbuild and the sources are here, else the prebuilt ones. */
export async function buildPage(root: string = packageRoot()): Promise<PageFiles> {
  const esbuild = await loadEsbuild();
  const hasSources = await readFile(join(root, PAGE_SOURCE_DIR, 'main.ts')).then(
    () => true,
    () => false,
  );
  return esbuild !== undefined && hasSources ? bundlePage(esbuild, root) : readBuilt(root);
}

/** Writes the built page into `dist/dashboard/` (`npm run build:dashboard`). */
export async function writePage(root: string = packageRoot()): Promise<string> {
  const esbuild = await loadEsbuild();
  if (esbuild === undefined) throw new DamesoError('DAMESO_DASHBOARD_UNBUILT', 'esbuild is not installed (npm ci)');
  const files = await bundlePage(esbuild, root);
  const dir = join(root, PAGE_DIST_DIR);
  await mkdir(dir, { recursive: true });
  for (const name of PAGE_FILE_NAMES) await writeFile(join(dir, name), files[name]);
  return dir;
}

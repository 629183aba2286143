/**
 * `npm run bundle`: what a board installs without npm. One tarball per architecture,
 * `dameso-<version>-linux-<arch>.tar.gz`, holding one JS file (esbuild, every dependency inside),
 * serialport's prebuilt native binding for that architecture, the board profiles, the systemd
 * units, the dashboard page (prebuilt) and `install.sh` / `uninstall.sh`.
 *
 *   npm run bundle                          # x64, arm64 and armhf into bundle-out/
 *   npm run bundle -- --arch x64 --out /tmp/b
 *
 * Prints one line per tarball (path and bytes) and, last, the JS file's bytes.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { buildPage, PAGE_DIST_DIR } from '../src/dashboard/index.js';

const REPO = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const ENTRY = path.join(REPO, 'src/cli/main.ts');
const JS_NAME = 'dameso.mjs';
/** Where the unit files expect the program on the board. */
const INSTALL_DIR = '/opt/dameso';
/** The program's path in the checkout's unit files (they run the compiled tree). */
const CHECKOUT_MAIN = `${INSTALL_DIR}/dist/src/cli/main.js`;

/** Board architecture (Debian's name) → Node's `process.arch` and the prebuilt bindings to ship. */
const ARCHES = {
  x64: { nodeArch: 'x64', prebuilds: /^@serialport\+bindings-cpp\.glibc\.node$/ },
  arm64: { nodeArch: 'arm64', prebuilds: /^@serialport\+bindings-cpp\.armv8\.glibc\.node$/ },
  // armv6 for the first Zero and Pi 1, armv7 for 32-bit images on the Zero 2 W, 3 and 4.
  armhf: { nodeArch: 'arm', prebuilds: /^@serialport\+bindings-cpp\.armv[67]\.glibc\.node$/ },
} as const;
type Arch = keyof typeof ARCHES;

/**
 * The bundled CommonJS code asks for `require`, `__dirname` and `__filename`; an ES module has
 * none, so the bundle defines them for itself (`__dirname` is the folder holding the JS file).
 */
const BANNER = [
  "import { createRequire as __damesoRequire } from 'node:module';",
  "import { fileURLToPath as __damesoPath } from 'node:url';",
  "import { dirname as __damesoDir } from 'node:path';",
  'const require = __damesoRequire(import.meta.url);',
  'const __filename = __damesoPath(import.meta.url);',
  'const __dirname = __damesoDir(__filename);',
].join(' ');

/**
 * serialport looks for its binding one folder above its own `dist/`; in the bundle that code sits
 * in the JS file, so point it at the folder holding the JS file, where `prebuilds/` is shipped.
 */
const serialportBindingBesideBundle: Plugin = {
  name: 'serialport-binding-beside-bundle',
  setup(b) {
    b.onLoad({ filter: /bindings-cpp[\\/]dist[\\/]serialport-bindings\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const from = "(0, path_1.join)(__dirname, '../')";
      if (!text.includes(from)) throw new Error(`${args.path}: the binding path to rewrite is not there any more`);
      return { contents: text.replace(from, '__dirname'), loader: 'js' };
    });
  },
};

/**
 * Our sources' `node:module` is scripts/bundle-require.ts, so that what they load with
 * `createRequire` is bundled; dependencies keep Node's own.
 */
const bundledCreateRequire: Plugin = {
  name: 'bundled-create-require',
  setup(b) {
    const shim = path.join(REPO, 'scripts/bundle-require.ts');
    b.onResolve({ filter: /^node:module$/ }, (args) => {
      const ours = args.importer.startsWith(REPO) && !args.importer.includes(`${path.sep}node_modules${path.sep}`);
      return ours && args.importer !== shim ? { path: shim } : undefined;
    });
  },
};

interface BuildStamp {
  version: string;
  commit: string;
  builtAt: string;
}

export function stamp(): BuildStamp {
  const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['-C', REPO, 'rev-parse', '--short=12', 'HEAD'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    // not a checkout: the stamp says so
  }
  return { version: pkg.version, commit, builtAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
}

/** `entry` (default: the `dameso` command) as one JS file; returns its bytes. Also used by bench:footprint. */
export async function bundleJs(outFile: string, build_: BuildStamp = stamp(), entry = ENTRY): Promise<number> {
  await build({
    entryPoints: [entry],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Fewer bytes to parse at every start (a board parses the whole file for `--version` too).
    minify: true,
    legalComments: 'none',
    banner: { js: BANNER },
    define: { DAMESO_BUILD: JSON.stringify(build_) },
    // cbor-x's native string extractor is optional: cbor-x falls back to JavaScript without it.
    // esbuild (the dashboard builds its page with it in a checkout) is a native tool, never on a
    // board: left out, the dashboard serves its prebuilt page.
    external: ['cbor-extract', 'esbuild'],
    plugins: [serialportBindingBesideBundle, bundledCreateRequire],
    logLevel: 'warning',
    // An import esbuild finds missing would be undefined at run time on the board: refuse to pack it.
    logOverride: { 'import-is-undefined': 'error' },
  });
  return statSync(outFile).size;
}

/** The unit files with the bundle's program path in ExecStart; fails if a unit does not name it. */
function copyUnits(stage: string): void {
  const from = path.join(REPO, 'devices/systemd');
  const to = path.join(stage, 'systemd');
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const text = readFileSync(path.join(from, name), 'utf8');
    if (name.endsWith('.service')) {
      if (!text.includes(CHECKOUT_MAIN)) throw new Error(`${name}: ExecStart no longer runs ${CHECKOUT_MAIN}`);
      writeFileSync(path.join(to, name), text.replaceAll(CHECKOUT_MAIN, `${INSTALL_DIR}/${JS_NAME}`));
    } else if (name.endsWith('.json')) {
      copyFileSync(path.join(from, name), path.join(to, name));
    }
  }
}

function copyMatching(fromDir: string, toDir: string, match: RegExp): number {
  mkdirSync(toDir, { recursive: true });
  const names = readdirSync(fromDir).filter((n) => match.test(n));
  for (const n of names) copyFileSync(path.join(fromDir, n), path.join(toDir, n));
  return names.length;
}

/** The dashboard page, prebuilt where the bundled code looks for it (`dist/dashboard/` beside the JS). */
async function writeDashboard(stage: string): Promise<void> {
  const page = await buildPage(REPO);
  const dir = path.join(stage, PAGE_DIST_DIR);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(page)) writeFileSync(path.join(dir, name), text);
}

/** Stage one architecture's folder and pack it; returns the tarball's path. */
async function packArch(arch: Arch, js: string, outDir: string, version: string): Promise<string> {
  const { nodeArch, prebuilds } = ARCHES[arch];
  const name = `dameso-${version}-linux-${arch}`;
  const stage = path.join(outDir, name);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  copyFileSync(js, path.join(stage, JS_NAME));
  const bindings = path.join(REPO, 'node_modules/@serialport/bindings-cpp/prebuilds', `linux-${nodeArch}`);
  if (copyMatching(bindings, path.join(stage, 'prebuilds', `linux-${nodeArch}`), prebuilds) === 0) {
    throw new Error(`no serialport binding for linux-${nodeArch} in ${bindings}`);
  }
  copyMatching(path.join(REPO, 'devices/boards'), path.join(stage, 'boards'), /\.json$/);
  copyUnits(stage);
  await writeDashboard(stage);
  for (const script of ['install.sh', 'uninstall.sh']) {
    copyFileSync(path.join(REPO, 'scripts', script), path.join(stage, script));
    chmodSync(path.join(stage, script), 0o755);
  }
  // The units' Documentation= names it.
  copyFileSync(path.join(REPO, 'README.md'), path.join(stage, 'README.md'));
  writeFileSync(path.join(stage, 'VERSION'), `${version}\n`);
  const tarball = path.join(outDir, `${name}.tar.gz`);
  execFileSync('tar', ['-czf', tarball, '--owner=0', '--group=0', '-C', outDir, name]);
  rmSync(stage, { recursive: true, force: true });
  return tarball;
}

interface BundleFlags {
  arches: Arch[];
  outDir: string;
}

function parseFlags(argv: readonly string[]): BundleFlags {
  const arches: Arch[] = [];
  let outDir = path.join(REPO, 'bundle-out');
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if ((flag === '--arch' || flag === '--out') && value === undefined) throw new UsageError(`${flag} needs a value`);
    if (flag === '--arch') {
      if (!Object.hasOwn(ARCHES, value!)) {
        throw new UsageError(`--arch must be one of ${Object.keys(ARCHES).join(', ')}, got "${value}"`);
      }
      arches.push(value as Arch);
      i++;
    } else if (flag === '--out') {
      outDir = path.resolve(value!);
      i++;
    } else {
      throw new UsageError(`unknown flag "${flag}" (flags: --arch x64|arm64|armhf, repeatable; --out DIR)`);
    }
  }
  return { arches: arches.length > 0 ? arches : (Object.keys(ARCHES) as Arch[]), outDir };
}

class UsageError extends Error {}

export async function main(argv: readonly string[]): Promise<void> {
  const flags = parseFlags(argv);
  mkdirSync(flags.outDir, { recursive: true });
  const build_ = stamp();
  const js = path.join(flags.outDir, JS_NAME);
  const jsBytes = await bundleJs(js, build_);
  for (const arch of flags.arches) {
    const tarball = await packArch(arch, js, flags.outDir, build_.version);
    process.stdout.write(`${tarball} ${statSync(tarball).size} bytes\n`);
  }
  process.stdout.write(`${js} ${jsBytes} bytes (commit ${build_.commit}, built ${build_.builtAt})\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    const usage = err instanceof UsageError;
    process.stderr.write(
      `bundle: ${err instanceof Error ? err.message : String(err)}${usage ? ' [DAMESO_USAGE]' : ''}\n`,
    );
    process.exitCode = usage ? 64 : 70;
  });
}

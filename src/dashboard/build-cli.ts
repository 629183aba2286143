/**
 * `npm run build:dashboard`: writes the dashboard page into dist/dashboard/, which a broker serves
 * when esbuild is not installed (an install without dev dependencies). Run by `npm run prepare`.
 */
import { writePage } from './build.js';

const dir = await writePage();
process.stdout.write(`dashboard page written to ${dir}\n`);

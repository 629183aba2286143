/**
 * `dameso field`: what `npm start` runs.
 */
import type { Command } from 'commander';

export function registerField(program: Command): void {
  program
    .command('field')
    .description('run a local field on this machine (what `npm start` runs)')
    .action(() => {
      process.stdout.write('dameso field: the local field arrives with the intent layer; see `dameso --help`.\n');
    });
}

/**
 * A `dameso` with only the series commands, for kill tests: the same command code as
 * `src/cli/main.ts series …`, without loading every other area's modules (MQTT, broker…) at each
 * of the many child starts.
 */
import { Command } from 'commander';
import { registerSeries } from '../../src/cli/series.js';

const program = new Command('dameso');
registerSeries(program);
await program.parseAsync(process.argv);

/** Runs only `dameso broker` (the registration from src/cli/broker.ts) in a child process for tests. */
import { Command } from 'commander';
import { registerBroker } from '../../src/cli/broker.js';

const program = new Command('dameso');
registerBroker(program);
await program.parseAsync(process.argv);

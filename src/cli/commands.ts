/**
 * The sub-commands. One line per area: each `register*` adds its commands (with help text that
 * teaches) to the program.
 */
import type { Command } from 'commander';
import { registerField } from './field.js';
import { registerLimits } from './limits.js';

export function registerAll(program: Command): void {
  registerField(program);
  registerLimits(program);
}

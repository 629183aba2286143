/**
 * The sub-commands. One line per area: each `register*` adds its commands (with help text that
 * teaches) to the program.
 */
import type { Command } from 'commander';
import { registerDevices } from './devices.js';
import { registerField } from './field.js';
import { registerLimits } from './limits.js';
import { registerMap } from './map.js';

export function registerAll(program: Command): void {
  registerDevices(program);
  registerField(program);
  registerLimits(program);
  registerMap(program);
}

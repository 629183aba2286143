/**
 * The sub-commands. One line per area: each `register*` adds its commands (with help text that
 * teaches) to the program.
 */
import type { Command } from 'commander';
import { registerBroker } from './broker.js';
import { registerChunks } from './chunks.js';
import { registerDevices } from './devices.js';
import { registerField } from './field.js';
import { registerFleet } from './fleet.js';
import { registerIntent } from './intent.js';
import { registerLimits } from './limits.js';
import { registerMap } from './map.js';
import { registerNode } from './node.js';
import { registerSeries } from './series.js';
import { registerStatus } from './status.js';
import { registerTap } from './tap.js';

export function registerAll(program: Command): void {
  registerBroker(program);
  registerChunks(program);
  registerDevices(program);
  registerField(program);
  registerFleet(program);
  registerIntent(program);
  registerLimits(program);
  registerMap(program);
  registerNode(program);
  registerSeries(program);
  registerStatus(program);
  registerTap(program);
}

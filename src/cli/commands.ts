/**
 * The sub-commands. One line per area: each area's module registers its commands (with help text
 * that teaches) on the program. Modules are loaded on demand: a command loads only its own area
 * (`dameso limits` never loads the broker, Redis or the serial binding), so a board starts it fast;
 * `--help` and an unknown command load them all.
 */
import type { Command } from 'commander';

type Register = (program: Command) => void;

/** Command name → the module that registers it. */
const AREAS: Readonly<Record<string, () => Promise<Register>>> = {
  broker: async () => (await import('./broker.js')).registerBroker,
  chunks: async () => (await import('./chunks.js')).registerChunks,
  devices: async () => (await import('./devices.js')).registerDevices,
  field: async () => (await import('./field.js')).registerField,
  fleet: async () => (await import('./fleet.js')).registerFleet,
  intent: async () => (await import('./intent.js')).registerIntent,
  limits: async () => (await import('./limits.js')).registerLimits,
  map: async () => (await import('./map.js')).registerMap,
  node: async () => (await import('./node.js')).registerNode,
  series: async () => (await import('./series.js')).registerSeries,
  status: async () => (await import('./status.js')).registerStatus,
  tap: async () => (await import('./tap.js')).registerTap,
};

/** Every command's area, in name order (what `--help` lists). */
export async function registerAll(program: Command): Promise<void> {
  for (const load of Object.values(AREAS)) (await load())(program);
}

/**
 * The area of `name` alone when it names one, else every area. Returns whether only one was loaded.
 */
export async function registerFor(program: Command, name: string | undefined): Promise<boolean> {
  const load = name === undefined ? undefined : AREAS[name];
  if (load === undefined) {
    await registerAll(program);
    return false;
  }
  (await load())(program);
  return true;
}

/**
 * `node:module` as the bundle's own code sees it (never node_modules' code): the CommonJS
 * packages our sources load with `createRequire(import.meta.url)(name)` — some only at a clustered
 * start — come from inside the bundle, still loaded only when asked for; any other name goes to
 * Node's own `createRequire`. esbuild cannot follow a `createRequire` call, so without this those
 * packages would be missing on a board that has no node_modules.
 */
import * as nodeModule from 'node:module';

type Load = () => unknown;

/** The names our sources require this way; each `require` here is one esbuild bundles. */
const BUNDLED: Readonly<Record<string, Load>> = {
  'aedes-persistence': () => require('aedes-persistence'),
  'aedes-persistence-redis': () => require('aedes-persistence-redis'),
  'mqemitter-redis': () => require('mqemitter-redis'),
  ioredis: () => require('ioredis'),
};

export function createRequire(from: string | URL): NodeJS.Require {
  // Created on first use: `from` may be one of the names above (a package "resolved" below).
  let real: NodeJS.Require | undefined;
  const node = (): NodeJS.Require => {
    real ??= nodeModule.createRequire(from);
    return real;
  };
  const load = (id: string): unknown => (Object.hasOwn(BUNDLED, id) ? BUNDLED[id]!() : node()(id));
  const resolve = (id: string, options?: { paths?: string[] }): string =>
    Object.hasOwn(BUNDLED, id) ? id : node().resolve(id, options);
  return Object.assign(load, { resolve }) as unknown as NodeJS.Require;
}

export const { builtinModules, isBuiltin } = nodeModule;

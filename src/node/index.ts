/** The node's public surface (`createNode`, options, services, components; see `../node.ts`) and the full node `dameso node` runs (`assembleNode`). */
export * from '../node.js';
export * from './assemble.js';
export * from './constants.js';

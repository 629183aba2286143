/** The node's public surface (`createNode`, options, services, components); see `../node.ts`. */
export * from '../node.js';

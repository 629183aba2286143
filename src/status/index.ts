/**
 * A node's status and health: read from its data folder (`dameso status --data`), or from the
 * running node (`/status` and `/healthz` on its metrics port), in one shape, as text or JSON.
 */
export * from './constants.js';
export { statusLines } from './format.js';
export { statusFromData } from './from-data.js';
export { type Health, healthOf, type StatusNode, statusOfNode } from './live.js';
export type { NodeStatus, RecordedEntry } from './types.js';
export { type StatusViewState, statusView } from './view.js';
export { type Wear, wearOf } from './wear.js';
export { wearOfSeries, writeBudgetOf } from './wear-node.js';

/**
 * `dameso fleet`: nodes hosted K per worker process (or one per process), the run and its fault
 * hooks, the scenario (liars, silent and slow nodes, faults), the built-in checks and the report
 * (docs/operations.md, "Fleet").
 */
export { DEFAULT_SCENARIO } from './constants.js';
export { fleetCredentials } from './credentials.js';
export { REQUESTER_ID } from './declarations.js';
export { checksText } from './report.js';
export { reportHtml } from './report-html.js';
export { defaultSpecs, type FleetProgress, type FleetSummary, type runFleet, workerGroups } from './run.js';
export { fleetRuntime } from './runtime.js';
export type { ScenarioRun } from './scenario-run.js';
export { runScenario } from './scenario-run.js';
export type { ScenarioOptions } from './spec.js';
export { workerClientId } from './worker-protocol.js';

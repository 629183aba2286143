/**
 * The messages between the fleet harness and its worker processes (IPC, structured clone).
 */
import type { NodeSpec } from './spec.js';

/** A worker's id on the broker (its roster connection); a users file holds it too. */
export const workerClientId = (index: number): string => `fleet-worker-${index}`;

export interface WorkerStart {
  type: 'start';
  index: number;
  specs: NodeSpec[];
  /** The broker every node connects to unless `brokerFor` names another (a stall proxy). */
  broker: string;
  brokerFor?: Record<string, string>;
  /** Node id → broker password (a broker with an auth file). */
  passwords?: Record<string, string>;
  ca?: string;
  /** The fleet's topic prefix; default `dameso`. */
  topicPrefix?: string;
  /** Node connects per second this worker may start. */
  connectPerS: number;
  /** Data folder of the worker's own roster connection. */
  rosterDataDir: string;
  /** Each node keeps its own roster instead of the worker's shared one (to measure what sharing saves). */
  ownRosters?: boolean;
}

export type ToWorker = WorkerStart | { type: 'stop' };

/** A worker's process usage, once a second. */
export interface WorkerSample {
  type: 'sample';
  /** Nodes online. */
  up: number;
  rssMB: number;
  heapUsedMB: number;
  /** user + system, s since the worker started. */
  cpuS: number;
}

export type FromWorker =
  | { type: 'up'; id: string; session: number }
  | { type: 'failed'; id: string; error: string }
  /** `presenceRecords`: presence records the worker's connections received while its nodes came up. */
  | { type: 'ready'; ms: number; presenceRecords: number }
  | WorkerSample
  | { type: 'stopped' };

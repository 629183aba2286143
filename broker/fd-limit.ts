/**
 * The process's descriptor limit (RLIMIT_NOFILE), read from /proc/self/limits. Node raises its soft
 * limit to the hard limit when it starts, so the hard limit (systemd `LimitNOFILE=`, `ulimit -Hn`)
 * is what bounds the connections a broker can hold.
 */
import { readFileSync } from 'node:fs';
import { FD_RESERVE } from './constants.js';

export interface FdLimit {
  soft: number;
  hard: number;
}

/** The `Max open files` line of a /proc/PID/limits text; undefined when absent or unlimited. */
export function parseFdLimit(limits: string): FdLimit | undefined {
  const m = /^Max open files\s+(\d+)\s+(\d+|unlimited)/m.exec(limits);
  if (!m) return undefined;
  const soft = Number(m[1]);
  return { soft, hard: m[2] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[2]) };
}

/** This process's limit; undefined where there is no /proc (not Linux). */
export function readFdLimit(path = '/proc/self/limits'): FdLimit | undefined {
  try {
    return parseFdLimit(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Most client connections `soft` descriptors leave room for, after FD_RESERVE. */
export function connectionsWithin(soft: number): number {
  return Math.max(1, soft - FD_RESERVE);
}

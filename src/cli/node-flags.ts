/**
 * The flags of `dameso node` and their parsers, shared by the command (node.ts) and its config
 * file (node-config.ts), which reads every key through the same checks.
 */
import { DEFAULT_REPLICATE, MAX_REPLICATE } from '../chunks/index.js';
import { ConfigError, DamesoError } from '../errors.js';
import { KIND_ROLES } from '../intent/index.js';
import type { MetricsFlags } from '../metrics/index.js';
import type { BehaviourFlags } from './node-behaviour.js';
import type { SurveyFlags } from './node-survey.js';

export interface NodeFlags extends MetricsFlags, SurveyFlags, BehaviourFlags {
  config?: string;
  id: string;
  roles: string;
  broker: string;
  data?: string;
  device?: string;
  embeddedPort?: string;
  embeddedHost: string;
  logLevel?: string;
  logFormat?: string;
  gps?: string;
  sensor?: string[];
  position?: string;
  simulate?: string[];
  passwordFile?: string;
  ca?: string;
  httpPort?: string;
  replicate?: string;
  retry?: boolean;
  prefix: string;
}

export const usage = (flag: string, msg: string): DamesoError => new DamesoError('DAMESO_USAGE', `${flag}: ${msg}`);

/** `PATH[:BAUD]` → path and baud rate (default `baud`). A path may itself hold colons only before the last. */
export function parsePortSpec(flag: string, v: string, baud: number): { path: string; baudRate: number } {
  const spec = v.trim();
  const colon = spec.lastIndexOf(':');
  // A suffix of letters and digits after the last colon is meant as a baud rate (`:9600`, `:abc`);
  // one with dots or dashes is part of a by-path name (`…-usb-0:1.3:1.0-port0`).
  const suffix = colon > 0 ? spec.slice(colon + 1) : undefined;
  const isBaud = suffix !== undefined && /^[A-Za-z0-9]*$/.test(suffix);
  const path = isBaud ? spec.slice(0, colon) : spec;
  if (path === '') throw usage(flag, `expected PATH[:BAUD], got "${v}"`);
  if (!isBaud) return { path, baudRate: baud };
  const baudRate = /^\d+$/.test(suffix) ? Number(suffix) : Number.NaN;
  if (!Number.isSafeInteger(baudRate) || baudRate <= 0) {
    throw usage(flag, `baud after "${path}:" must be a positive integer (e.g. ${path}:${baud}), got "${suffix}"`);
  }
  return { path, baudRate };
}

/** `LAT,LON` in decimal degrees → a position. */
export function parsePosition(v: string): { lat: number; lon: number } {
  const parts = v.split(',').map((s) => s.trim());
  const [lat, lon] = parts.map(Number);
  if (parts.length !== 2 || lat === undefined || lon === undefined || parts.some((p) => p === '')) {
    throw usage('--position', `expected LAT,LON in decimal degrees (e.g. 48.8566,2.3522), got "${v}"`);
  }
  if (!(lat >= -90 && lat <= 90)) throw usage('--position', `latitude must be in [-90,90], got "${parts[0]}"`);
  if (!(lon >= -180 && lon <= 180)) throw usage('--position', `longitude must be in [-180,180], got "${parts[1]}"`);
  return { lat, lon };
}

export interface SimulateSpec {
  metric: string;
  bias: number;
  noiseSigma?: number;
  /** PRNG seed (a copier repeats a liar's). Default: from the node id. */
  seed?: number;
}

/** `METRIC[,bias=N][,noise=N][,seed=N]` → a simulated sensor's settings. */
export function parseSimulate(v: string): SimulateSpec {
  const [metric, ...opts] = v.split(',').map((s) => s.trim());
  if (metric === undefined || !/^[A-Za-z0-9_.-]{1,64}$/.test(metric)) {
    throw usage('--simulate', `expected METRIC[,bias=N][,noise=N] with METRIC in [A-Za-z0-9_.-], got "${v}"`);
  }
  const spec: SimulateSpec = { metric, bias: 0 };
  for (const o of opts) {
    const [k, raw] = o.split('=');
    const n = Number(raw);
    if (raw === undefined || raw === '' || !Number.isFinite(n)) {
      throw usage('--simulate', `"${o}" must be bias=N, noise=N or seed=N with a number N`);
    }
    if (k === 'bias') spec.bias = n;
    else if (k === 'seed') {
      if (!Number.isInteger(n) || n < 0) throw usage('--simulate', `seed must be a whole number >= 0, got ${n}`);
      spec.seed = n >>> 0;
    } else if (k === 'noise') {
      if (n < 0) throw usage('--simulate', `noise must be >= 0, got ${n}`);
      spec.noiseSigma = n;
    } else throw usage('--simulate', `unknown option "${k}" (known: bias, noise, seed)`);
  }
  return spec;
}

/** `--replicate K`: storage nodes the node backs its own series up to, 0 = off. */
export function parseReplicate(v: string | undefined): number {
  if (v === undefined) return DEFAULT_REPLICATE;
  const k = Number(v);
  if (v.trim() === '' || !Number.isInteger(k) || k < 0 || k > MAX_REPLICATE) {
    throw usage('--replicate', `expected an integer from 0 (off) to ${MAX_REPLICATE}, got "${v}"`);
  }
  return k;
}

/** `a,b` → `['a','b']` (empty items dropped). */
export function splitList(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Roles a node can serve: those of the v1 kinds (`KIND_ROLES`). */
export const KNOWN_ROLES: readonly string[] = [...new Set(Object.values(KIND_ROLES))];

/** Refuse a role no kind is served by (a typo would otherwise leave the node answering nothing): exit 78. */
export function checkRoles(roles: readonly string[]): void {
  const unknown = roles.filter((r) => !KNOWN_ROLES.includes(r));
  if (unknown.length > 0) {
    throw new ConfigError(
      'roles',
      `unknown role(s) ${unknown.map((r) => `"${r}"`).join(', ')}; known roles: ${KNOWN_ROLES.join(', ')}`,
    );
  }
}

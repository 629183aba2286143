/**
 * Connection limits at accept: most open connections in total and per source address, and no new
 * connection from an address cooling down (one of its connections was closed for its drops). A
 * socket over a limit is destroyed before anything is read from it, so an idle-socket flood holds
 * at most the limits' worth of descriptors and the rest of the process keeps its own.
 */
import { isIPv6 } from 'node:net';
import { type Clock, systemClock } from '../src/clock.js';
import { MAX_COOLING_ADDRESSES } from './constants.js';

export const CONNECTION_REFUSALS = ['max_connections', 'max_connections_per_ip', 'cooling_down'] as const;
export type ConnectionRefusal = (typeof CONNECTION_REFUSALS)[number];

export interface Admission {
  /** Takes a place for a socket from `remote`; the refusal when a limit is reached. */
  admit(remote: string | undefined): ConnectionRefusal | undefined;
  /** Gives back the place admit() took for `remote`. */
  release(remote: string | undefined): void;
  /** Refuses new connections from `remote`'s source for the cool-down (connections it holds stay). */
  coolDown(remote: string | undefined): void;
  /** Open admitted connections. */
  readonly open: number;
  /** Source keys with at least one open connection (bounded by the total limit). */
  readonly sources: number;
  /** Source keys cooling down (bounded by `maxCooling`; expired ones leave at their next connection). */
  readonly cooling: number;
}

export interface AdmissionLimits {
  maxConnections: number;
  maxPerSource: number;
  /** How long coolDown() refuses a source, ms. Default 0: never. */
  coolDownMs?: number;
  /** Most sources cooling down at once, oldest forgotten first. Default MAX_COOLING_ADDRESSES. */
  maxCooling?: number;
  /** The clock of the cool-downs. Default systemClock. */
  clock?: Clock;
}

export function createAdmission(limits: AdmissionLimits): Admission {
  const coolDownMs = limits.coolDownMs ?? 0;
  const maxCooling = limits.maxCooling ?? MAX_COOLING_ADDRESSES;
  const clock = limits.clock ?? systemClock;
  const perSource = new Map<string, number>();
  // Source key → end of its cool-down (monotonic ms), in the order they began.
  const coolingUntil = new Map<string, number>();
  let open = 0;
  const isCooling = (key: string): boolean => {
    const until = coolingUntil.get(key);
    if (until === undefined) return false;
    if (clock.monotonic() < until) return true;
    coolingUntil.delete(key);
    return false;
  };
  return {
    admit(remote) {
      const key = sourceKey(remote);
      if (coolingUntil.size > 0 && isCooling(key)) return 'cooling_down';
      if (open >= limits.maxConnections) return 'max_connections';
      const held = perSource.get(key) ?? 0;
      if (held >= limits.maxPerSource) return 'max_connections_per_ip';
      perSource.set(key, held + 1);
      open++;
      return undefined;
    },
    release(remote) {
      const key = sourceKey(remote);
      const held = perSource.get(key);
      if (held === undefined) return;
      open--;
      if (held <= 1) perSource.delete(key);
      else perSource.set(key, held - 1);
    },
    coolDown(remote) {
      if (coolDownMs <= 0) return;
      setNewest(coolingUntil, sourceKey(remote), clock.monotonic() + coolDownMs, maxCooling);
    },
    get open() {
      return open;
    },
    get cooling() {
      return coolingUntil.size;
    },
    get sources() {
      return perSource.size;
    },
  };
}

/**
 * What one limit counts: an IPv4 address (also when written IPv4-mapped, `::ffff:a.b.c.d`), or the
 * /64 of an IPv6 address, since one IPv6 host usually holds a whole /64.
 */
export function sourceKey(remote: string | undefined): string {
  if (remote === undefined) return '?';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote);
  if (mapped) return mapped[1]!;
  if (!isIPv6(remote)) return remote;
  return `${expandIpv6(remote).slice(0, 4).join(':')}::/64`;
}

/** The eight groups of an IPv6 address, `::` expanded (a zone id dropped). */
function expandIpv6(address: string): string[] {
  const [head = '', tail] = address.split('%')[0]!.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = Array.from({ length: Math.max(0, 8 - left.length - right.length) }, () => '0');
  return [...left, ...zeros, ...right].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''));
}

/**
 * Addresses already warned about, least recently warned forgotten first: a refused address is
 * logged at warn once, then at debug, and a flood of new addresses cannot grow the table.
 */
export class WarnedOnce {
  private readonly seen = new Map<string, true>();

  constructor(private readonly capacity: number) {}

  /** True the first time `key` is seen (or after it was forgotten). */
  first(key: string): boolean {
    const seenBefore = this.seen.has(key);
    setNewest(this.seen, key, true, this.capacity);
    return !seenBefore;
  }

  get size(): number {
    return this.seen.size;
  }
}

/**
 * Sets `key` as the newest entry of an insertion-ordered table of at most `capacity` entries,
 * forgetting the oldest when a new key would cross it.
 */
function setNewest<V>(table: Map<string, V>, key: string, value: V, capacity: number): void {
  table.delete(key);
  if (table.size >= capacity) {
    const oldest = table.keys().next().value;
    if (oldest !== undefined) table.delete(oldest);
  }
  table.set(key, value);
}

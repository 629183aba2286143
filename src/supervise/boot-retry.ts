/**
 * A refusal at boot (the broker refuses the password, its certificate does not verify, it cannot
 * be reached) is tried again with bounded backoff, as the transport does for the same refusal once
 * the node runs: each attempt builds a fresh node (a node starts once), one warning line per
 * refusal names its code and the next delay. Anything else a start throws (a bad flag or config,
 * a damaged series, a locked data folder) ends the loop: the caller exits with its code.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { DamesoError, messageOf } from '../errors.js';
import type { Logger } from '../log.js';
import {
  BrokerCertificateError,
  BrokerNotAuthorizedError,
  BrokerPrefixMismatchError,
  BrokerUnreachableError,
  StartAbortedError,
} from '../transport/index.js';
import { BOOT_RETRY_MAX_MS, BOOT_RETRY_MIN_MS } from './constants.js';

/** What a start attempt needs of a node. */
export interface Startable {
  readonly brokerUrl: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface BootRefusal {
  code: string;
  message: string;
  /** 1 for the first refusal. */
  attempt: number;
  nextDelayMs: number;
}

export interface BootRetryOptions<N extends Startable> {
  /** Builds a new node for each attempt. */
  create: () => N;
  clock: Clock;
  log: Logger;
  /** Try again after a boot refusal; false: the first refusal is thrown. Default true. */
  retry?: boolean;
  /** Heard once per refusal, before the wait (count it, tell systemd). */
  onRefusal?: (r: BootRefusal) => void | Promise<void>;
  /** Default `BOOT_RETRY_MIN_MS`. */
  minDelayMs?: number;
  /** Default `BOOT_RETRY_MAX_MS`. */
  maxDelayMs?: number;
}

/** A refusal the broker side may lift by itself (a users file, certificate or prefix fixed, a broker started). */
export function isBootRefusal(err: unknown): boolean {
  return (
    err instanceof BrokerNotAuthorizedError ||
    err instanceof BrokerCertificateError ||
    err instanceof BrokerPrefixMismatchError ||
    err instanceof BrokerUnreachableError
  );
}

/** The delay after the `attempt`-th refusal: min, 2×min, 4×min… up to max. */
export function bootRetryDelayMs(attempt: number, minMs = BOOT_RETRY_MIN_MS, maxMs = BOOT_RETRY_MAX_MS): number {
  return Math.min(maxMs, minMs * 2 ** Math.min(Math.max(0, attempt - 1), 30));
}

export class BootRetry<N extends Startable> {
  private current: N | undefined;
  private aborted = false;
  private timer: TimerHandle | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly o: BootRetryOptions<N>) {}

  /** Resolves with the node that went online; rejects with the first error that is no boot refusal. */
  async start(): Promise<N> {
    for (let attempt = 1; ; attempt++) {
      const node = this.o.create();
      this.current = node;
      try {
        await node.start();
        return node;
      } catch (err) {
        if (this.aborted || this.o.retry === false || !isBootRefusal(err)) throw err;
        await this.refused(err, attempt);
        if (this.aborted) throw new StartAbortedError(node.brokerUrl);
      }
    }
  }

  /** Ctrl-C or SIGTERM while starting: the attempt under way or the wait ends at once. */
  async abort(): Promise<void> {
    this.aborted = true;
    this.o.clock.clearTimeout(this.timer);
    this.wake?.();
    await this.current?.stop();
  }

  private async refused(err: unknown, attempt: number): Promise<void> {
    const delayMs = bootRetryDelayMs(attempt, this.o.minDelayMs, this.o.maxDelayMs);
    const code = err instanceof DamesoError ? err.code : 'DAMESO_INTERNAL';
    const message = messageOf(err);
    this.o.log.warn(
      { code, attempt, delayMs },
      `start refused [${code}]: ${message}; retry ${attempt + 1} in ${formatDelay(delayMs)}`,
    );
    await this.o.onRefusal?.({ code, message, attempt, nextDelayMs: delayMs });
    // Between two nodes nothing holds the process open (the clock's timers are unref'd): this does.
    const hold = setInterval(() => {}, KEEP_ALIVE_MS);
    try {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = this.o.clock.setTimeout(resolve, delayMs);
      });
    } finally {
      clearInterval(hold);
      this.wake = undefined;
    }
  }
}

const KEEP_ALIVE_MS = 2 ** 30;

const formatDelay = (ms: number): string => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`);

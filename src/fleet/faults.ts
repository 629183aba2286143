/**
 * The fault schedule played against a running fleet: each fault at its second from the start of
 * the declaring phase, through the hooks the fleet's host gives (kill and restart a node or worker,
 * restart the embedded broker) and the stall proxy. Every fault is marked with when it began and
 * ended and what it hit, for the checks (which nodes died, which were unreachable) and the report.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { messageOf } from '../errors.js';
import type { Fault, FaultKind, FaultSchedule } from './spec.js';
import type { StallProxy } from './stall-proxy.js';

export interface FaultHooks {
  /** SIGKILLs the node (or the worker hosting it) and restarts it on the same folders; resolves with every node id that died. */
  kill(target: string): Promise<string[]>;
  /** Restarts the embedded broker child; resolves once it accepts connections again. */
  restartBroker(): Promise<void>;
}

export interface FaultMark {
  kind: FaultKind;
  /** Seconds from the start of the run, as planned. */
  atS: number;
  /** When it began and ended, seconds from the start (measured). */
  startS: number;
  endS: number;
  /** The nodes it hit (killed, or behind the stalled proxy). */
  nodes: string[];
  ok: boolean;
  detail?: string;
}

export interface FaultRunner {
  /** Faults done or under way, in start order. */
  marks(): FaultMark[];
  /** Cancels the faults not yet begun and waits for the one under way (a stall is ended). */
  stop(): Promise<void>;
}

/** Plays `schedule` from now; `proxy` is needed only when it holds stalls. */
export function runFaults(
  schedule: FaultSchedule,
  deps: { hooks: FaultHooks; clock: Clock; proxy?: StallProxy },
): FaultRunner {
  const { clock } = deps;
  const t0 = clock.monotonic();
  const seconds = (): number => Math.round((clock.monotonic() - t0) / 10) / 100;
  const marks: FaultMark[] = [];
  let timer: TimerHandle | undefined;
  let current: Promise<void> = Promise.resolve();
  let stopped = false;
  let endStall: (() => void) | undefined;
  const queue = [...schedule.faults].sort((a, b) => a.atS - b.atS);

  const play = async (f: Fault): Promise<void> => {
    const mark: FaultMark = { kind: f.kind, atS: f.atS, startS: seconds(), endS: seconds(), nodes: [], ok: true };
    marks.push(mark);
    try {
      if (f.kind === 'kill') mark.nodes = await deps.hooks.kill(f.targets?.[0] ?? '');
      else if (f.kind === 'broker-restart') await deps.hooks.restartBroker();
      else {
        mark.nodes = [...(f.targets ?? [])];
        await stall(f);
      }
    } catch (err) {
      mark.ok = false;
      mark.detail = messageOf(err);
    }
    mark.endS = seconds();
  };

  const stall = (f: Fault): Promise<void> => {
    const proxy = deps.proxy;
    if (proxy === undefined) throw new Error('a stall fault needs the stall proxy');
    proxy.stall();
    return new Promise<void>((resolve) => {
      const t = clock.setTimeout(() => finish(), (f.durationS ?? 0) * 1000);
      const finish = (): void => {
        clock.clearTimeout(t);
        endStall = undefined;
        proxy.resume();
        resolve();
      };
      endStall = finish;
    });
  };

  const next = (): void => {
    const f = queue.shift();
    if (f === undefined || stopped) return;
    const wait = Math.max(0, t0 + f.atS * 1000 - clock.monotonic());
    timer = clock.setTimeout(() => {
      // Faults do not overlap: one that is late starts when the one before ended.
      current = play(f).then(next);
    }, wait);
  };
  next();

  return {
    marks: () => marks.map((m) => ({ ...m, nodes: [...m.nodes] })),
    async stop() {
      stopped = true;
      clock.clearTimeout(timer);
      endStall?.();
      await current;
    },
  };
}

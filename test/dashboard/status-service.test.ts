/**
 * The node side of the dashboard on a manual clock: status and consensus records are retained,
 * at most one per STATUS_MIN_INTERVAL_MS, only when changed, each closed intent told once, and
 * everything again after a reconnect.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/clock.js';
import {
  createStatusService,
  DASHBOARD_VIEW,
  type DashboardViewState,
  dashboardView,
} from '../../src/dashboard/index.js';
import { silentLogger } from '../../src/log.js';
import { createTopics, STATUS_MIN_INTERVAL_MS } from '../../src/protocol/index.js';
import type { Entry } from '../../src/series/index.js';

const LIM = { economic: 1, cpu: 0.504, memory: 0.9, w_tracking: 1, objective: 1, topology: 1 };

function harness() {
  const clock = createManualClock();
  let state: DashboardViewState = dashboardView.initial();
  let seq = 0;
  const sent: { topic: string; record: Record<string, unknown>; retain: boolean | undefined }[] = [];
  const connects: (() => void)[] = [];
  let cpu = LIM.cpu;
  const deps = {
    id: 'pi-1',
    series: { view: <S>(name: string) => (name === DASHBOARD_VIEW ? state : { nodes: {} }) as S },
    transport: {
      topics: createTopics(),
      session: 4,
      epoch: 77,
      publish: async (topic: string, record: object | null, o?: { retain?: boolean }) => {
        sent.push({ topic, record: record as Record<string, unknown>, retain: o?.retain });
      },
      onConnect: (fn: () => void) => {
        connects.push(fn);
        return () => undefined;
      },
    },
    clock,
    log: silentLogger,
    pressure: () => undefined,
    limiterReadout: () => ({ board: 'pi-4b', values: { ...LIM, cpu } }),
  };
  const fold = (e: Record<string, unknown>) => {
    state = dashboardView.apply(state, { seq: ++seq, t: clock.now(), ...e } as unknown as Entry);
  };
  const closeIntent = (id: string) =>
    fold({
      event: 'intent_outcome',
      id,
      kind: 'want_chunk',
      yes: [{ node: 'b', ms: 2 }],
      no: [],
      silence: [],
      offline: [],
      ms: 9,
    });
  const instance = createStatusService().create(deps as never);
  return { clock, sent, connects, instance, fold, closeIntent, setCpu: (v: number) => (cpu = v) };
}

describe('status service', () => {
  it('publishes retained status at most once per interval, only on change, each closed intent once', () => {
    const h = harness();
    h.closeIntent('old'); // closed before this run: never told
    h.instance.start();
    expect(h.sent).toHaveLength(1);
    expect(h.sent[0]).toMatchObject({ topic: 'dameso/v1/status/pi-1', retain: true });
    expect(h.sent[0]?.record).toMatchObject({ v: 1, node: 'pi-1', session: 4, epoch: 77, board: 'pi-4b' });
    expect(h.sent[0]?.record.lim).toMatchObject({ cpu: 0.5 }); // rounded to 0.01
    expect(h.sent[0]?.record.closed).toBeUndefined();

    h.closeIntent('i1');
    h.closeIntent('i2');
    h.clock.advance(STATUS_MIN_INTERVAL_MS - 1_000);
    expect(h.sent).toHaveLength(1); // too soon
    h.clock.advance(1_000);
    expect(h.sent).toHaveLength(2);
    expect(h.sent[1]?.record.closed).toEqual([
      { id: 'i1', kind: 'want_chunk', ms: 9, yes: 1, no: {}, silence: 0, offline: 0 },
      { id: 'i2', kind: 'want_chunk', ms: 9, yes: 1, no: {}, silence: 0, offline: 0 },
    ]);

    h.clock.advance(STATUS_MIN_INTERVAL_MS); // the told intents leave the record
    expect(h.sent).toHaveLength(3);
    expect(h.sent[2]?.record.closed).toBeUndefined();
    h.setCpu(0.5049); // same after rounding: nothing to tell
    h.clock.advance(STATUS_MIN_INTERVAL_MS * 3);
    expect(h.sent).toHaveLength(3);
    h.setCpu(0.2);
    h.clock.advance(STATUS_MIN_INTERVAL_MS);
    expect(h.sent).toHaveLength(4);
  });

  it('announces the newest consensus per cell and metric, and everything again after a reconnect', () => {
    const h = harness();
    h.instance.start();
    const cons = (cell: string, value: number, extra: Record<string, unknown> = {}) =>
      h.fold({ event: 'consensus', cell, metric: 'temp', value, spread: 0.1, responders: ['a', 'b'], ...extra });
    cons('u09tvw0', 19);
    cons('u09tvw1', 20, { low_confidence: true });
    cons('u09tvw0', 18.5);
    h.clock.advance(STATUS_MIN_INTERVAL_MS);
    const consensus = h.sent.filter((s) => s.topic === 'dameso/v1/consensus/pi-1');
    expect(consensus).toHaveLength(1);
    expect(consensus[0]?.record.cells).toEqual([
      { cell: 'u09tvw1', metric: 'temp', value: 20, spread: 0.1, n: 2, t: expect.any(Number), low: true },
      { cell: 'u09tvw0', metric: 'temp', value: 18.5, spread: 0.1, n: 2, t: expect.any(Number) },
    ]);
    const before = h.sent.length;
    for (const fn of h.connects) fn();
    h.clock.advance(1_000);
    expect(h.sent.slice(before).map((s) => s.topic)).toEqual(['dameso/v1/status/pi-1', 'dameso/v1/consensus/pi-1']);
    h.instance.stop();
    h.clock.advance(STATUS_MIN_INTERVAL_MS * 10);
    expect(h.sent.length).toBe(before + 2);
  });
});

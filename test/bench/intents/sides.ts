/**
 * The two sides of the comparison, each = a requester in this process + N responders placed by the
 * layout. Raw: the requester publishes a CBOR request on one topic, every responder replies with a
 * CBOR payload on the requester's reply topic; one round = all N replies in. dameso: a requester
 * node declaring `want_chunk`; one round = the outcome closed by `all_answered` (every responder
 * answered, YES or NO).
 */
import path from 'node:path';
import { decode, encode } from '../../../src/protocol/index.js';
import type { Layout, Responders } from './layouts.js';
import type { Side } from './measure.js';
import { connect, createBenchNode, RAW_INTENT_TOPIC, RAW_REPLY_TOPIC } from './responders.js';

/** A side with its responders. */
export interface PlacedSide extends Side {
  readonly responders: Responders;
}

/** The side's responder CPU, where the layout can tell it. */
const cpuOf = (r: Responders) => (r.usage ? { responderCpuS: () => r.usage!().cpuS } : {});

const ROSTER_TIMEOUT_MS = 120_000;

export async function rawSide(layout: Layout, url: string, n: number): Promise<PlacedSide> {
  const req = await connect(url, 'raw-req');
  const responders = await layout.startRaw(url, n);
  const waiting = new Map<string, { left: number; done: () => void }>();
  req.on('message', (_t, p) => {
    const m = decode(p) as { id: string };
    const w = waiting.get(m.id);
    if (w && --w.left === 0) {
      waiting.delete(m.id);
      w.done();
    }
  });
  await req.subscribeAsync(RAW_REPLY_TOPIC, { qos: 0 });
  let seq = 0;
  return {
    responders,
    ...cpuOf(responders),
    round: () =>
      new Promise<void>((done) => {
        const id = `q${seq++}`;
        waiting.set(id, { left: n, done });
        req.publish(
          RAW_INTENT_TOPIC,
          encode({
            v: 1,
            id,
            from: 'req',
            session: 1,
            kind: 'want_chunk',
            t: Date.now(),
            deadline: 5000,
            subject: 'x',
          }),
          { qos: 0 },
        );
      }),
    stop: async () => {
      await Promise.all([req.endAsync(true), responders.stop()]);
    },
  };
}

export async function damesoSide(
  layout: Layout,
  url: string,
  n: number,
  root: string,
): Promise<PlacedSide & { stats: { yes: number; no: Record<string, number> } }> {
  const stats = { yes: 0, no: {} as Record<string, number> };
  const responders = await layout.startNodes(url, n, root);
  const req = createBenchNode(url, `req-${n}`, [], path.join(root, `req-${n}`));
  await req.start();
  const t0 = performance.now();
  while (req.roster.online().filter((p) => p.roles.includes('bt')).length < n) {
    if (performance.now() - t0 > ROSTER_TIMEOUT_MS) throw new Error(`roster: not all ${n} responders seen`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    responders,
    ...cpuOf(responders),
    stats,
    round: async () => {
      const o = await req.declare('want_chunk', { subject: 'x', deadlineMs: 10_000 });
      if (o.closedBy !== 'all_answered' || o.yes.length + o.no.length !== n) {
        throw new Error(`dameso round: ${o.closedBy}, ${o.yes.length + o.no.length}/${n} replies`);
      }
      stats.yes += o.yes.length;
      for (const r of o.no) stats.no[r.envelope.reason ?? '?'] = (stats.no[r.envelope.reason ?? '?'] ?? 0) + 1;
    },
    stop: async () => {
      await Promise.all([req.stop(), responders.stop()]);
    },
  };
}

/**
 * `npm run bench:chunks`: chunk fetch throughput and push-to-K latency vs raw mqtt.js, same broker,
 * same run. Prints one JSON object on stdout.
 *
 * Layout (one process): dameso's Aedes host (TCP_NODELAY) on 127.0.0.1; five bt nodes and one
 * requester node, each on its own connection (series on, `batch` durability, files in a temp dir).
 * For each chunk size:
 * - raw fetch: one client publishes a small request, another answers with the chunk bytes on a
 *   reply topic; one in flight, in blocks (BENCH_FETCH_BLOCK, 60) alternating with blocks of
 *   dameso fetches (same load on both; see main() for why blocks). Raw push: one client publishes
 *   the bytes, K clients each answer a small ack; one round = K acks in.
 * - required work: the fetch stripped to what it cannot skip, on plain clients (envelopes encoded,
 *   checked by the broker, validated by each receiver; SHA-256 at the reader; the three entries):
 *   the floor under any fetch of this protocol here (chunks/baselines.ts). In its own blocks.
 * - dameso push: `pushChunk` of fresh chunks to K = 3 of the 5 bt nodes (store_chunk: envelope,
 *   temp file, fsync, read-back verify, rename, dir fsync, retained `have`), one at a time.
 * - dameso fetch: `fetch(id)` of those chunks by another node (`reader`), one at a time: holder
 *   discovery from the tracked `have` records, `want_chunk` to the first online holder (served
 *   from its store: the cache of verified bytes, else the file, re-hashed), SHA-256 check of the
 *   bytes at the reader.
 * - series push: a node's whole series (BENCH_SERIES_MIB, 16) cut and pushed by `pushSeries`, one
 *   chunk at a time and with the default window, beside raw publish-to-K of as many chunks
 *   (chunks/series-push.ts).
 * Knobs: BENCH_GATE=limiters (default alwaysYes: the machine's load must not turn into cpu_busy),
 * BENCH_DURABILITY (batch), BENCH_FETCH_PASSES (3: each chunk is fetched that many times).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { encode } from 'cbor-x';
import {
  type ChunksService,
  type ChunksServiceOptions,
  createChunksService,
  sha256Hex,
} from '../../src/chunks/index.js';
import { alwaysYesGate } from '../../src/intent/index.js';
import { createNode, type DamesoNode } from '../../src/node.js';
import type { Entry } from '../../src/series/types.js';
import { startAedes } from '../helpers/brokers.js';
import { rawFetcher, rawPush, requiredWorkFetcher } from './chunks/baselines.js';
import { measureSeriesPush } from './chunks/series-push.js';

const GATE_LIMITERS = process.env.BENCH_GATE === 'limiters';
const DURABILITY = (process.env.BENCH_DURABILITY ?? 'batch') as 'batch' | 'none' | 'always';
const K = 3;
/**
 * Fetch passes over the pushed chunks. The ratio is of totals (throughput), so on a shared box a
 * few stalls of some ms decide a single pass of 24-200 fetches; more samples of the same work
 * steady it. Every pass asks a holder (the reader keeps nothing).
 */
const FETCH_PASSES = Number(process.env.BENCH_FETCH_PASSES ?? 3);
const BT_NODES = 5;
/** Size of the series pushed whole (`pushSeries`), MiB. */
const SERIES_MIB = Number(process.env.BENCH_SERIES_MIB ?? 16);
/** Fetches per block of each kind (raw, dameso, bare) in the alternation. */
const FETCH_BLOCK = Number(process.env.BENCH_FETCH_BLOCK ?? 60);
/** Chunks per size: enough bytes to measure, small enough to keep the bench under a minute. */
const PLAN: Array<{ label: string; bytes: number; count: number }> = [
  { label: '4KiB', bytes: 4 * 1024, count: 200 },
  { label: '64KiB', bytes: 64 * 1024, count: 120 },
  { label: '512KiB', bytes: 512 * 1024, count: 24 },
];

const r2 = (x: number) => Math.round(x * 100) / 100;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};
const mbps = (bytes: number, ms: number) => r2(bytes / (1024 * 1024) / (ms / 1000));

function chunkOf(node: string, seq: number, bytes: number): { id: string; bytes: Uint8Array } {
  const events: Entry[] = [{ seq, t: Date.now(), event: 'blob', pad: Buffer.alloc(bytes - 120, seq % 251) }];
  const b = new Uint8Array(
    encode({ v: 1, node, first_seq: seq, last_seq: seq, start_t: events[0]!.t, end_t: events[0]!.t, events }),
  );
  return { id: sha256Hex(b), bytes: b };
}

async function main(): Promise<void> {
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const broker = await startAedes();
  const root = await mkdtemp(path.join(os.tmpdir(), 'dameso-bench-chunks-'));
  const nodes: DamesoNode[] = [];
  const start = async (
    id: string,
    roles: string[],
    extra: ChunksServiceOptions = {},
  ): Promise<{ node: DamesoNode; chunks: ChunksService }> => {
    const chunks = createChunksService({ replicas: K, budgetBytes: 512 * 1024 * 1024, ...extra });
    const node = createNode({
      id,
      roles,
      broker: broker.url,
      dataDir: path.join(root, id),
      durability: DURABILITY,
      services: [chunks],
      ...(GATE_LIMITERS ? {} : { gate: alwaysYesGate }),
    });
    await node.start();
    nodes.push(node);
    return { node, chunks };
  };
  try {
    for (let i = 0; i < BT_NODES; i++) await start(`bt-${i}`, ['bt']);
    const { chunks: requester } = await start('requester', []);
    // Fetches come from another node: it learns the holders from the retained have records only.
    const { chunks: reader, node: readerNode } = await start('reader', []);
    const results: Record<string, unknown> = {};
    let seq = 1;
    for (const p of PLAN) {
      const chunks = Array.from({ length: p.count }, () => chunkOf('requester', seq++, p.bytes));
      const size = chunks[0]!.bytes.length;
      const rawP = await rawPush(broker.url, chunks[0]!.bytes, K, p.count);

      const pushMs: number[] = [];
      for (const c of chunks) {
        const t0 = performance.now();
        const r = await requester.pushChunk(c);
        pushMs.push(performance.now() - t0);
        if (!r.met) throw new Error(`push of ${c.id} reached ${r.holders.length} of ${K} replicas`);
      }
      // Raw and dameso fetches alternate in blocks of FETCH_BLOCK chunks, so both see the same
      // machine load (the box is shared: one A-then-B run mostly measures who ran at the quieter
      // time). Blocks, not single fetches: each fetch sets off group commits on the nodes' series
      // (10 ms windows) that run after it returns. Alternating one fetch each, those commits fired
      // during the raw fetches that followed and the ratio read 0.63-0.69 where a per-fetch
      // comparison without that gave 0.56-0.57. Within a block they land in dameso's own time; what
      // is still pending when a block ends (the last window, about a twentieth of its commits) is
      // flushed, untimed, before raw runs. The bare intent round trips run in their own blocks.
      const raw = await rawFetcher(broker.url, chunks[0]!.bytes);
      const required = await requiredWorkFetcher(broker.url, chunks, path.join(root, `required-${p.label}`));
      const rawF: number[] = [];
      const requiredMs: number[] = [];
      const fetchMs: number[] = [];
      const intentMs: number[] = [];
      let fetchTotal = 0;
      const flushAll = () => Promise.all(nodes.map((n) => n.series.flush()));
      const froms = new Map<string, string>();
      for (let pass = 0; pass < FETCH_PASSES; pass++)
        for (let b = 0; b < chunks.length; b += FETCH_BLOCK) {
          const block = chunks.slice(b, b + FETCH_BLOCK);
          for (const _ of block) rawF.push(await raw.round());
          const blockStart = performance.now();
          for (const c of block) {
            const f0 = performance.now();
            const got = await reader.fetch(c.id);
            fetchMs.push(performance.now() - f0);
            if (got.bytes.length !== c.bytes.length) throw new Error('fetch returned the wrong bytes');
            froms.set(c.id, got.from);
          }
          fetchTotal += performance.now() - blockStart;
          await flushAll();
          // The bare intent round trip to the same holder (no discovery, no check at the reader):
          // what the intent layer costs on its own, to tell its share from the chunk layer's.
          for (const c of block) {
            const i0 = performance.now();
            const o = await readerNode.declare('want_chunk', { subject: c.id, to: [froms.get(c.id) ?? ''] });
            intentMs.push(performance.now() - i0);
            if (o.yes.length !== 1) throw new Error('bare want_chunk got no YES');
          }
          await flushAll();
          for (const _ of block) requiredMs.push(await required.round());
          await required.flush();
        }
      await raw.stop();
      await required.stop();
      const rawTotal = rawF.reduce((a, b) => a + b, 0);
      const fetchMBs = mbps(size * fetchMs.length, fetchTotal);
      const rawMBs = mbps(size * rawF.length, rawTotal);
      results[p.label] = {
        chunk_bytes: size,
        chunks: p.count,
        fetches: fetchMs.length,
        fetch: { mb_per_s: fetchMBs, p50_ms: r2(pct(fetchMs, 50)), p99_ms: r2(pct(fetchMs, 99)) },
        raw_fetch: { mb_per_s: rawMBs, p50_ms: r2(pct(rawF, 50)), p99_ms: r2(pct(rawF, 99)) },
        fetch_ratio: r2(fetchMBs / rawMBs),
        fetch_ratio_p50: r2(pct(rawF, 50) / pct(fetchMs, 50)),
        bare_want_chunk: { p50_ms: r2(pct(intentMs, 50)), ratio_p50_vs_raw: r2(pct(rawF, 50) / pct(intentMs, 50)) },
        // The floor: a fetch's required work alone on plain clients (baselines.ts); its ratio is the
        // best any fetch of wire protocol v1 with verification and recording reaches on this host.
        required_work: { p50_ms: r2(pct(requiredMs, 50)), ratio_p50_vs_raw: r2(pct(rawF, 50) / pct(requiredMs, 50)) },
        push_to_k: { k: K, p50_ms: r2(pct(pushMs, 50)), p99_ms: r2(pct(pushMs, 99)) },
        raw_push_to_k: { p50_ms: r2(pct(rawP, 50)), p99_ms: r2(pct(rawP, 99)) },
        push_latency_ratio: r2(pct(pushMs, 50) / Math.max(0.001, pct(rawP, 50))),
      };
    }
    results.series_push = await measureSeriesPush(
      { brokerUrl: broker.url, k: K, start: (id, extra) => start(id, [], extra) },
      SERIES_MIB,
    );
    const target = results['64KiB'] as {
      fetch_ratio: number;
      fetch_ratio_p50: number;
      required_work: { ratio_p50_vs_raw: number };
    };
    process.stdout.write(
      `${JSON.stringify({
        bench: 'chunks',
        layout: `one process: broker + ${BT_NODES} bt nodes + pusher + reader, each its own connection; K=${K}; one in flight; raw and required-work arms on plain clients`,
        durability: DURABILITY,
        gate: GATE_LIMITERS ? 'limiters' : 'alwaysYes',
        node: process.version,
        cpus: os.cpus().length,
        loadavg_1m: r2(os.loadavg()[0] ?? 0),
        results,
        target: {
          fetch_ratio_64KiB_min: 0.6,
          fetch_ratio_64KiB: target.fetch_ratio,
          fetch_ratio_p50_64KiB: target.fetch_ratio_p50,
          required_work_ratio_p50_64KiB: target.required_work.ratio_p50_vs_raw,
          // The target is read on throughput (totals). On this shared host the totals are mostly
          // stalls of some ms that hit both sides (mean fetch ~2x its p50), which pulls the ratio
          // toward 1; the ratio of medians is the software's own cost. Both are reported.
          met: target.fetch_ratio >= 0.6,
          met_at_p50: target.fetch_ratio_p50 >= 0.6,
        },
      })}\n`,
    );
  } finally {
    for (const n of nodes.reverse()) await n.stop().catch(() => undefined);
    await broker.stop();
    await rm(root, { recursive: true, force: true });
    clearInterval(keepAlive);
  }
}

await main();

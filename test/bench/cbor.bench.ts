/**
 * `npm run bench:cbor`: what dameso's CBOR paths (src/cbor) cost against bare cbor-x, measured in
 * the same run, and what that cost is worth to their callers. One JSON object on stdout, a summary
 * on stderr.
 *
 * Paths, each against cbor-x configured the same way but called bare:
 * - `wire_encode`: `encode` (cbor-x, then a copy the caller may keep) on an intent, a reply with a
 *   small body and a reply carrying a 64 KiB chunk;
 * - `wire_decode`: `decode` (the scan of the v1 subset, then cbor-x) — the scan's price;
 * - `series_encode`: `encodeEntry` on an observation entry and an intent-outcome entry.
 * Each pair runs in alternating CPU-timed blocks (order swapped each block).
 *
 * Callers, measured in the same run as CPU time per operation:
 * - an intent answered YES over a real Aedes host on a real port, requester and responder nodes in
 *   this process: one intent costs 2 wire encodes (intent, reply) and 4 wire decodes (the broker's
 *   check and the receiver, for each);
 * - the same with a 64 KiB byte string in the reply (a chunk fetch);
 * - a series append in `batch` durability: one entry encode.
 * `ratio_added_to_caller` = (dameso µs − bare µs) × calls per operation / caller CPU µs per operation: the
 * part of the caller spent on what dameso adds to cbor-x. A hand-written path replacing cbor-x
 * would have to save at least 10 % of its caller to be kept (docs/design-notes.md).
 *
 *   npm run bench:cbor
 *   BENCH_CBOR_BLOCKS=10 npm run bench:cbor
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Decoder, Encoder } from 'cbor-x';
import { createBrokerHost } from '../../broker/index.js';
import { decode, encode, encodeEntry } from '../../src/cbor/index.js';
import { alwaysYesGate } from '../../src/intent/index.js';
import { createNode, type DamesoNode } from '../../src/node/index.js';
import { createSeries } from '../../src/series/index.js';

const BLOCKS = Number(process.env.BENCH_CBOR_BLOCKS ?? 6);
const BLOCK_MS = Number(process.env.BENCH_CBOR_BLOCK_MS ?? 250);
const INTENTS = Number(process.env.BENCH_CBOR_INTENTS ?? 1500);
const APPENDS = Number(process.env.BENCH_CBOR_APPENDS ?? 20000);

const say = (line: string) => process.stderr.write(`bench:cbor: ${line}\n`);
const r2 = (x: number) => Math.round(x * 100) / 100;
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

const ID = '01JQ0000000000000000000000';
const LIM = { economic: 0.91, cpu: 0.72, memory: 0.66, w_tracking: 1, objective: 0.8, topology: 0.5 };
const SAMPLES = {
  intent: {
    v: 1,
    id: ID,
    from: 'mapper-12',
    session: 7,
    epoch: 3141592653,
    kind: 'want_chunk',
    t: 1_765_000_000_000,
    deadline: 1000,
    subject: 'c1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80',
  },
  reply_small: { v: 1, id: ID, from: 'bt-3', session: 4, epoch: 271828182, r: 'yes', data: { size: 4096 }, lim: LIM },
  reply_chunk_64k: { v: 1, id: ID, from: 'bt-3', session: 4, epoch: 271828182, r: 'yes', data: Buffer.alloc(65536, 7) },
};
const ENTRIES = {
  observation: {
    event: 'observation',
    t: 1_765_000_000_000,
    cell: 'u09tvw0',
    metric: 'temperature_c',
    value: 21.37,
    lat: 48.8566,
    lon: 2.3522,
  },
  outcome: {
    event: 'intent_closed',
    id: ID,
    kind: 'want_observations',
    subject: 'u09tvw',
    expected: ['m-1', 'm-2', 'm-3', 'm-4', 'm-5'],
    yes: ['m-1', 'm-2', 'm-3'],
    no: [{ node: 'm-4', reason: 'cpu_busy' }],
    silence: ['m-5'],
    offline: [],
    elapsed_ms: 12.5,
  },
};

/**
 * CPU ns per call of `fn` over a block of about BLOCK_MS of CPU time (CPU, not wall time: on a
 * shared machine a preempted block would otherwise count another process's work).
 */
function timeBlock(fn: () => void): number {
  let n = 0;
  const start = process.cpuUsage();
  const cpuUs = () => {
    const u = process.cpuUsage(start);
    return u.user + u.system;
  };
  let spent = 0;
  while (spent < BLOCK_MS * 1000) {
    for (let i = 0; i < 256; i++) fn();
    n += 256;
    spent = cpuUs();
  }
  return (spent * 1000) / n;
}

/** Median CPU ns per call of dameso's path and bare cbor-x over alternating blocks. */
function pair(fast: () => void, general: () => void): { damesoNs: number; bareNs: number; ratio_to_bare: number } {
  for (let i = 0; i < 2000; i++) {
    fast();
    general();
  }
  const f: number[] = [];
  const g: number[] = [];
  for (let b = 0; b < BLOCKS; b++) {
    if (b % 2 === 0) {
      f.push(timeBlock(fast));
      g.push(timeBlock(general));
    } else {
      g.push(timeBlock(general));
      f.push(timeBlock(fast));
    }
  }
  const damesoNs = median(f);
  const bareNs = median(g);
  return { damesoNs: r2(damesoNs), bareNs: r2(bareNs), ratio_to_bare: r3(damesoNs / bareNs) };
}

function measurePaths() {
  const bareWire = new Encoder({ useRecords: false, tagUint8Array: false, variableMapSize: true, mapsAsObjects: true });
  const bareWireDecoder = new Decoder({ useRecords: false, mapsAsObjects: true });
  const bareEntries = new Encoder({ useRecords: false });
  const wireEncode: Record<string, ReturnType<typeof pair>> = {};
  const wireDecode: Record<string, ReturnType<typeof pair>> = {};
  for (const [name, value] of Object.entries(SAMPLES)) {
    wireEncode[name] = pair(
      () => encode(value),
      () => bareWire.encode(value),
    );
    const bytes = encode(value);
    wireDecode[name] = pair(
      () => decode(bytes),
      () => bareWireDecoder.decode(bytes),
    );
  }
  const seriesEncode: Record<string, ReturnType<typeof pair>> = {};
  for (const [name, value] of Object.entries(ENTRIES)) {
    seriesEncode[name] = pair(
      () => encodeEntry(value),
      () => bareEntries.encode(value),
    );
  }
  return { wire_encode: wireEncode, wire_decode: wireDecode, series_encode: seriesEncode };
}

/**
 * CPU µs of this process per intent answered YES (broker + both nodes here): `bench_ping` answers a
 * small body, `bench_chunk` a 64 KiB byte string (a chunk fetch's reply).
 */
async function intentCaller(root: string, kind: 'bench_ping' | 'bench_chunk'): Promise<number> {
  const host = createBrokerHost({ port: 0, host: '127.0.0.1' });
  const { url } = await host.start();
  const nodes: DamesoNode[] = [];
  try {
    const yes = alwaysYesGate;
    const responder = createNode({
      id: 'responder',
      roles: ['bt'],
      broker: url,
      dataDir: path.join(root, 'responder'),
      gate: yes,
      handlers: [
        { kind: 'bench_ping', role: 'bt', handle: () => ({ r: 'yes', data: { size: 4096 } }) },
        { kind: 'bench_chunk', role: 'bt', handle: () => ({ r: 'yes', data: SAMPLES.reply_chunk_64k.data }) },
      ],
      kindRoles: { bench_ping: 'bt', bench_chunk: 'bt' },
    });
    const requester = createNode({
      id: 'requester',
      broker: url,
      dataDir: path.join(root, 'requester'),
      gate: yes,
      kindRoles: { bench_ping: 'bt', bench_chunk: 'bt' },
    });
    nodes.push(responder, requester);
    await responder.start();
    await requester.start();
    const run = async (n: number) => {
      for (let i = 0; i < n; i++) await requester.declare(kind, { subject: 's', deadlineMs: 1000 });
    };
    await run(200);
    const cpu0 = process.cpuUsage();
    await run(INTENTS);
    const cpu = process.cpuUsage(cpu0);
    return (cpu.user + cpu.system) / INTENTS;
  } finally {
    for (const n of nodes.reverse()) await n.stop().catch(() => undefined);
    await host.stop();
  }
}

/** CPU µs of this process per series append (`batch` durability). */
async function appendCaller(root: string): Promise<number> {
  const series = createSeries({ dir: path.join(root, 'series'), durability: 'batch' });
  await series.open();
  try {
    const entry = ENTRIES.observation;
    const cpu0 = process.cpuUsage();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < APPENDS; i++) {
      pending.push(series.append(entry));
      if (pending.length >= 256) await Promise.all(pending.splice(0));
    }
    await Promise.all(pending);
    const cpu = process.cpuUsage(cpu0);
    return (cpu.user + cpu.system) / APPENDS;
  } finally {
    await series.close();
  }
}

async function main() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'dameso-bench-cbor-'));
  try {
    const loadStart = os.loadavg().map(r2);
    const paths = measurePaths();
    const intentUs = await intentCaller(path.join(root, 'ping'), 'bench_ping');
    const chunkUs = await intentCaller(path.join(root, 'chunk'), 'bench_chunk');
    const appendUs = await appendCaller(root);
    const addedUs = (p: { damesoNs: number; bareNs: number }, calls: number) =>
      ((p.damesoNs - p.bareNs) * calls) / 1000;
    const wireAddedPerIntentUs =
      addedUs(paths.wire_encode.intent!, 1) +
      addedUs(paths.wire_encode.reply_small!, 1) +
      addedUs(paths.wire_decode.intent!, 2) +
      addedUs(paths.wire_decode.reply_small!, 2);
    const callers = {
      intent_answered_cpu_us: r2(intentUs),
      chunk_answered_cpu_us: r2(chunkUs),
      series_append_cpu_us: r2(appendUs),
    };
    const share = {
      wire_encode_of_intent: r3(
        (addedUs(paths.wire_encode.intent!, 1) + addedUs(paths.wire_encode.reply_small!, 1)) / intentUs,
      ),
      wire_decode_of_intent: r3(
        (addedUs(paths.wire_decode.intent!, 2) + addedUs(paths.wire_decode.reply_small!, 2)) / intentUs,
      ),
      wire_both_of_intent: r3(wireAddedPerIntentUs / intentUs),
      wire_encode_of_chunk_answer: r3(addedUs(paths.wire_encode.reply_chunk_64k!, 1) / chunkUs),
      series_encode_of_append: r3(addedUs(paths.series_encode.observation!, 1) / appendUs),
    };
    const result = {
      bench: 'cbor',
      machine: { cpus: os.cpus().length, node: process.version },
      load: { start: loadStart, end: os.loadavg().map(r2) },
      blocks: BLOCKS,
      block_ms: BLOCK_MS,
      paths,
      callers,
      ratio_added_to_caller: share,
    };
    for (const [group, rows] of Object.entries(paths)) {
      for (const [name, p] of Object.entries(rows)) {
        say(`${group} ${name}: dameso ${p.damesoNs} ns, bare cbor-x ${p.bareNs} ns (ratio ${p.ratio_to_bare})`);
      }
    }
    say(
      `callers: intent ${callers.intent_answered_cpu_us} µs CPU, chunk answer ${callers.chunk_answered_cpu_us} µs CPU, append ${callers.series_append_cpu_us} µs CPU`,
    );
    say(`share of caller added: ${JSON.stringify(share)}`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  say(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});

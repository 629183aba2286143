/**
 * `npm run bench:hostile`: what each attack costs a `dameso broker` process and the nodes using it.
 * The broker runs in a child process (its CPU read from /proc/PID/stat), the attacker in another
 * (test/bench/hostile/attacker.ts), and 10 responder nodes and a requester in this one. For each
 * attack, a quiet phase and an attacked phase alternate (same run, same broker): intents declared
 * back to back (want_chunk, answered by all 10) give p50/p99, and the ratios attacked/quiet are
 * printed with the figures as one JSON object.
 *
 *   npm run bench:hostile
 *   BENCH_PHASE_S=10 BENCH_ATTACKS=idle,cbor npm run bench:hostile
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alwaysYesGate } from '../../src/intent/index.js';
import { createNode, type DamesoNode } from '../../src/node.js';
import { type BrokerChild, cpuMs, rssBytes, startBrokerChild } from '../helpers/hostile.js';

const PHASE_MS = Number(process.env.BENCH_PHASE_S ?? 6) * 1000;
const ATTACKS = (process.env.BENCH_ATTACKS ?? 'idle,half_connect,slow_publish,cbor').split(',');
const RESPONDERS = 10;

const root = mkdtempSync(path.join(os.tmpdir(), 'dameso-bench-hostile-'));
const nodes: DamesoNode[] = [];
let broker: BrokerChild | undefined;
let attacker: ChildProcess | undefined;

function cleanup(): void {
  attacker?.kill('SIGKILL');
  broker?.kill();
  rmSync(root, { recursive: true, force: true });
}

async function startNodes(url: string): Promise<DamesoNode> {
  const common = { broker: url, rosterQuietMs: 50, gate: alwaysYesGate, reconnectMinMs: 50, reconnectMaxMs: 300 };
  for (let i = 0; i < RESPONDERS; i++) {
    const node = createNode({
      ...common,
      id: `bt-${i}`,
      dataDir: path.join(root, `bt-${i}`),
      roles: ['bt'],
      handlers: [{ kind: 'want_chunk', role: 'bt', handle: async () => ({ r: 'yes', data: 'here' }) }],
    });
    nodes.push(node);
    await node.start();
  }
  const requester = createNode({ ...common, id: 'req', dataDir: path.join(root, 'req') });
  nodes.push(requester);
  await requester.start();
  return requester;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
const r2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Intents back to back for PHASE_MS: latency percentiles, rounds that missed a responder, the CPU
 * share of the broker and of the attacker (all of them share this machine's cores).
 */
async function phase(requester: DamesoNode, pid: number, attackerPid?: number) {
  const latencies: number[] = [];
  let incomplete = 0;
  const cpu0 = cpuMs(pid);
  const attackerCpu0 = attackerPid === undefined ? 0 : cpuMs(attackerPid);
  const t0 = performance.now();
  while (performance.now() - t0 < PHASE_MS) {
    const start = performance.now();
    const outcome = await requester.declare('want_chunk', { subject: 'c', deadlineMs: 2_000 });
    latencies.push(performance.now() - start);
    if (outcome.yes.length < RESPONDERS) incomplete++;
  }
  const wallMs = performance.now() - t0;
  latencies.sort((a, b) => a - b);
  return {
    rounds: latencies.length,
    incomplete,
    p50Ms: r2(pct(latencies, 0.5)),
    p99Ms: r2(pct(latencies, 0.99)),
    brokerCpu: r2((cpuMs(pid) - cpu0) / wallMs),
    brokerCpuMsPerRound: r2((cpuMs(pid) - cpu0) / latencies.length),
    attackerCpu: attackerPid === undefined ? 0 : r2((cpuMs(attackerPid) - attackerCpu0) / wallMs),
    brokerRssMB: r2(rssBytes(pid) / 1e6),
  };
}

function startAttacker(mode: string, port: number): ChildProcess {
  const script = path.join(import.meta.dirname, 'hostile', 'attacker.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, mode, String(port)], { stdio: 'ignore' });
  return child;
}

async function main() {
  broker = await startBrokerChild([], 'error');
  const requester = await startNodes(`mqtt://127.0.0.1:${broker.port}`);
  await phase(requester, broker.pid); // warm-up
  const cases: Record<string, unknown> = {};
  for (const mode of ATTACKS) {
    const quiet = await phase(requester, broker.pid);
    attacker = startAttacker(mode, broker.port);
    await new Promise((r) => setTimeout(r, 1_000)); // the attacker reaches full speed
    const attacked = await phase(requester, broker.pid, attacker.pid);
    attacker.kill('SIGKILL');
    attacker = undefined;
    await new Promise((r) => setTimeout(r, 1_000)); // its sockets are gone before the next quiet phase
    cases[mode] = {
      quiet,
      attacked,
      ratio: {
        p50: r2(attacked.p50Ms / quiet.p50Ms),
        p99: r2(attacked.p99Ms / quiet.p99Ms),
        brokerCpu: r2(attacked.brokerCpu / Math.max(quiet.brokerCpu, 0.01)),
      },
    };
  }
  await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
  const stats = await broker.stop();
  broker = undefined;
  process.stdout.write(
    `${JSON.stringify({
      bench: 'hostile',
      phaseMs: PHASE_MS,
      responders: RESPONDERS,
      limits: { ...(stats.refused as object) },
      timedOut: stats.timedOut,
      packetsTooLarge: stats.packetsTooLarge,
      droppedTotal: stats.droppedTotal,
      cases,
    })}\n`,
  );
}

main().then(cleanup, (err: unknown) => {
  process.stderr.write(`bench:hostile failed: ${err instanceof Error ? err.message : String(err)}\n`);
  cleanup();
  process.exit(1);
});

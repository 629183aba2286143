/**
 * `npm run bench:failover`: how fast a cluster gets over a dead broker, against the heartbeat it
 * runs with (the baseline, as a ratio). Each run: a real redis-server, broker A a real `dameso
 * broker --redis --heartbeat-s 1` process, broker B a clustered host in this process, node n1 (A
 * only) and n2 (A then B) real node processes, an observer node on B. A is SIGKILLed; measured:
 * - detection: kill → n1 offline in the observer's roster (B found A dead, published n1's Will);
 * - recovery: kill → n2 online again in the observer's roster with a new session (on B);
 * - graceful: in a second cluster, SIGTERM of A → n1 offline at the observer (A's live Will);
 * - empty Redis: one broker, Redis restarted empty → n1 and n2 announced again at the observer.
 * Writes bench-results/failover-<date>.json and prints it.
 *
 *   npm run bench:failover
 *   BENCH_RUNS=10 npm run bench:failover
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrokerHost, createBrokerHost, redisCluster } from '../../broker/index.js';
import { createNode, type DamesoNode } from '../../src/node.js';
import { startClusterBroker } from '../helpers/cluster-broker.js';
import { startRedis } from '../helpers/redis.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const HEARTBEAT_S = 1;
const NODE_CHILD = fileURLToPath(new URL('../helpers/node-child.ts', import.meta.url));
const progress = (what: string) => process.stderr.write(`bench:failover: ${what}\n`);

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now();
}

async function childNode(url: string, id: string, dir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', NODE_CHILD, url, id, 'yes', dir], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`node ${id} exited with ${code}`)));
  });
  return child;
}

interface Run {
  detectionMs: number;
  recoveryMs: number;
  gracefulMs: number;
  emptyRedisMs: number;
}

/** One cluster: A (process), B (here), n1 and n2 on A, an observer on B; A gets `signal`. */
async function once(signal: 'SIGKILL' | 'SIGTERM'): Promise<{ offlineMs: number; backMs: number }> {
  const redis = await startRedis();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dameso-failover-'));
  const children: ChildProcess[] = [];
  let b: BrokerHost | undefined;
  let observer: DamesoNode | undefined;
  try {
    const a = await startClusterBroker(redis.url, 'broker-a', ['--heartbeat-s', String(HEARTBEAT_S)]);
    b = createBrokerHost({
      host: '127.0.0.1',
      port: 0,
      id: 'broker-b',
      heartbeatMs: HEARTBEAT_S * 1000,
      cluster: redisCluster(redis.url),
    });
    const urlB = (await b.start()).url;
    children.push(await childNode(a.url, 'n1', path.join(dir, 'n1')));
    children.push(await childNode(`${a.url},${urlB}`, 'n2', path.join(dir, 'n2')));
    const obs = createNode({ id: 'obs', broker: urlB, dataDir: path.join(dir, 'obs'), rosterQuietMs: 50 });
    observer = obs;
    await obs.start();
    await until(() => obs.roster.get('n1')?.online === true && obs.roster.get('n2')?.online === true, 20_000, 'n1, n2');
    const n2Session = obs.roster.get('n2')?.session ?? 0;
    const t0 = performance.now();
    await a.kill(signal);
    // Both watched in one loop: each time is when its own condition first held.
    let offlineAt: number | undefined;
    let backAt: number | undefined;
    await until(
      () => {
        const now = performance.now();
        if (offlineAt === undefined && obs.roster.get('n1')?.online === false) offlineAt = now;
        const n2 = obs.roster.get('n2');
        if (backAt === undefined && n2?.online === true && n2.session > n2Session) backAt = now;
        return offlineAt !== undefined && backAt !== undefined;
      },
      60_000,
      'n1 offline and n2 back',
    );
    if (offlineAt === undefined || backAt === undefined) throw new Error('unreachable');
    return { offlineMs: offlineAt - t0, backMs: backAt - t0 };
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await observer?.stop().catch(() => undefined);
    await b?.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Redis restarted empty under B: restart done → n1 and n2 announced again (new sessions) at the observer. */
async function emptyRedis(): Promise<number> {
  const redis = await startRedis();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dameso-failover-'));
  const children: ChildProcess[] = [];
  const b = createBrokerHost({ host: '127.0.0.1', port: 0, id: 'broker-b', cluster: redisCluster(redis.url) });
  let observer: DamesoNode | undefined;
  try {
    const urlB = (await b.start()).url;
    children.push(await childNode(urlB, 'n1', path.join(dir, 'n1')));
    children.push(await childNode(urlB, 'n2', path.join(dir, 'n2')));
    const obs = createNode({ id: 'obs', broker: urlB, dataDir: path.join(dir, 'obs'), rosterQuietMs: 50 });
    observer = obs;
    await obs.start();
    await until(() => obs.roster.get('n1')?.online === true && obs.roster.get('n2')?.online === true, 20_000, 'n1, n2');
    const before = (id: string) => obs.roster.get(id)?.session ?? 0;
    const s1 = before('n1');
    const s2 = before('n2');
    await redis.restartEmpty();
    const t0 = performance.now();
    const again = (id: string, s: number) =>
      obs.roster.get(id)?.online === true && (obs.roster.get(id)?.session ?? 0) > s;
    const at = await until(() => again('n1', s1) && again('n2', s2), 60_000, 'n1, n2 announced again');
    return at - t0;
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await observer?.stop().catch(() => undefined);
    await b.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const summary = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  const median =
    s.length % 2 ? (s[(s.length - 1) / 2] ?? 0) : ((s[s.length / 2 - 1] ?? 0) + (s[s.length / 2] ?? 0)) / 2;
  return { median: Math.round(median), min: Math.round(s[0] ?? 0), max: Math.round(s[s.length - 1] ?? 0) };
};

const runs: Run[] = [];
for (let i = 0; i < RUNS; i++) {
  const killed = await once('SIGKILL');
  const stopped = await once('SIGTERM');
  const emptyRedisMs = await emptyRedis();
  runs.push({ detectionMs: killed.offlineMs, recoveryMs: killed.backMs, gracefulMs: stopped.offlineMs, emptyRedisMs });
  progress(`run ${i + 1}/${RUNS}: ${JSON.stringify(runs[i])}`);
}
const heartbeatMs = HEARTBEAT_S * 1000;
const detection = summary(runs.map((r) => r.detectionMs));
const result = {
  bench: 'failover',
  date: new Date().toISOString(),
  runs: RUNS,
  heartbeatMs,
  detectionMs: detection,
  detectionPerHeartbeat: Math.round((detection.median / heartbeatMs) * 100) / 100,
  recoveryMs: summary(runs.map((r) => r.recoveryMs)),
  gracefulStopMs: summary(runs.map((r) => r.gracefulMs)),
  emptyRedisMs: summary(runs.map((r) => r.emptyRedisMs)),
  each: runs.map((r) => ({
    detectionMs: Math.round(r.detectionMs),
    recoveryMs: Math.round(r.recoveryMs),
    gracefulMs: Math.round(r.gracefulMs),
    emptyRedisMs: Math.round(r.emptyRedisMs),
  })),
};
mkdirSync('bench-results', { recursive: true });
const out = path.join('bench-results', `failover-${result.date.slice(0, 10)}.json`);
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
progress(`written to ${out}`);

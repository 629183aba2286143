/**
 * Memory of an idle node (`--roles bt`, the broker in another process) against a bare mqtt.js
 * client process connected to the same broker: both started together, left to settle, then their
 * RSS read from /proc a few times; several rounds.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { usageOf } from '../../../src/fleet/procs.js';
import { pairedRatio, type Spread, spread } from './stats.js';

/** The unit's Node flags (devices/systemd/dameso-node.service), for both processes alike. */
export const UNIT_NODE_FLAGS = ['--max-old-space-size=512', '--max-semi-space-size=2'];
const SETTLE_MS = 3000;
const SAMPLES = 8;
const SAMPLE_EVERY_MS = 250;
const READY_TIMEOUT_MS = 30_000;

/** Starts `node ARGS` and resolves once it printed `ready` on stdout. */
function startUntil(args: readonly string[], ready: string, cwd: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...UNIT_NODE_FLAGS, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not ready after ${READY_TIMEOUT_MS} ms: ${args.join(' ')}`)),
      READY_TIMEOUT_MS,
    );
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(ready)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr?.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2000);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before "${ready}": ${err.trim()}`));
    });
  });
}

/**
 * The broker both idle processes use: dameso's own (`js broker`) in a process of its own, so that
 * nothing it does runs in the bench process, which later hosts the answer path's requester.
 */
export async function startBrokerProcess(js: string): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [js, 'broker', '--port', '0', '--host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (mqtt:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`broker exited (${code}) before listening: ${out.trim()}`)));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  return { url, stop };
}

const BARE_CLIENT = `
import mqtt from 'mqtt';
const c = await mqtt.connectAsync(process.argv[1], { clientId: 'bare-client' });
await c.subscribeAsync('bare/#');
console.log('ready');`;

async function medianRssMB(pid: number): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    xs.push(usageOf(pid).rssMB);
    await sleep(SAMPLE_EVERY_MS);
  }
  return spread(xs, 1).median;
}

export interface IdleFigures {
  nodeRssMB: Spread;
  bareClientRssMB: Spread;
  ratio: Spread;
  nodeFlags: string[];
}

/** `rounds` rounds of: the node (from `js`) and a bare client started together, settled, sampled. */
export async function measureIdle(js: string, brokerUrl: string, repo: string, rounds: number): Promise<IdleFigures> {
  const node: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const data = mkdtempSync(path.join(os.tmpdir(), 'dameso-footprint-idle-'));
    const children: ChildProcess[] = [];
    try {
      const args = [js, 'node', '--id', `idle-${i}`, '--roles', 'bt', '--broker', brokerUrl, '--data', data];
      children.push(await startUntil([...args, '--log-level', 'warn'], 'online', repo));
      children.push(await startUntil(['--input-type=module', '-e', BARE_CLIENT, brokerUrl], 'ready', repo));
      await sleep(SETTLE_MS);
      const [n, b] = await Promise.all(children.map((c) => medianRssMB(c.pid ?? 0)));
      node.push(n!);
      bare.push(b!);
    } finally {
      for (const c of children) c.kill('SIGKILL');
      rmSync(data, { recursive: true, force: true });
    }
  }
  return {
    nodeRssMB: spread(node, 1),
    bareClientRssMB: spread(bare, 1),
    ratio: pairedRatio(node, bare),
    nodeFlags: UNIT_NODE_FLAGS,
  };
}

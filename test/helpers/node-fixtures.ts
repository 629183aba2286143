/**
 * Fixtures for intent-layer tests: temp data dirs, nodes with simple handlers, waiting on events.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { alwaysYesGate } from '../../src/intent/index.js';
import type { Answer, IntentHandler } from '../../src/intent/types.js';
import { createNode, type DamesoNode, type NodeOptions } from '../../src/node.js';
import { type BrokerHandle, startAedes } from './brokers.js';

/** A handler for `kind` (role from the v1 table) that always answers `answer`. */
export function fixedHandler(kind: string, role: string, answer: Answer, delayMs = 0): IntentHandler {
  return {
    kind,
    role,
    handle: async () => {
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      return answer;
    },
  };
}

export const YES = (data: unknown = 'ok'): Answer => ({ r: 'yes', data });
export const NO_FULL: Answer = { r: 'no', reason: 'storage_full' };
export const SILENCE: Answer = { r: 'silence', why: 'not held' };

/** Tracks temp dirs and nodes; `cleanup()` stops every node and removes every dir. */
export class NodePool {
  private readonly dirs: string[] = [];
  readonly nodes: DamesoNode[] = [];

  async dir(prefix = 'dameso-node-'): Promise<string> {
    const d = await mkdtemp(path.join(os.tmpdir(), prefix));
    this.dirs.push(d);
    return d;
  }

  async start(url: string, id: string, options: Partial<NodeOptions> = {}): Promise<DamesoNode> {
    const node = createNode({
      id,
      broker: url,
      dataDir: options.dataDir ?? (await this.dir()),
      rosterQuietMs: 50,
      // Deterministic classification: the real limiters (default) could say NO cpu_busy on a busy CI box.
      gate: alwaysYesGate,
      reconnectMinMs: 50,
      reconnectMaxMs: 300,
      ...options,
    });
    this.nodes.push(node);
    await node.start();
    return node;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.nodes.splice(0).map((n) => n.stop().catch(() => undefined)));
    await Promise.all(this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  }
}

/** Resolves when `check()` is true, polling on I/O turns; rejects after `timeoutMs` (a hang guard). */
export async function until(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Spawns `node-child.ts` (a real node in its own process); resolves once it printed `ready`. */
export async function spawnChildNode(
  url: string,
  id: string,
  answer: 'yes' | 'no' | 'silence',
  dataDir: string,
): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('./node-child.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, url, id, answer, dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-2000);
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`child node ${id} exited with ${code}: ${err}`)));
  });
  return child;
}

/** SIGKILLs a child and resolves once it is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/**
 * The set-up most node suites share: one real Aedes for the file (the dameso broker host, envelope
 * checks on) and a NodePool whose nodes and folders are removed after it, before the broker stops.
 * Registers its own beforeAll/afterAll; read `url` inside hooks and tests.
 */
export function aedesSuite(): { readonly url: string; readonly pool: NodePool } {
  let broker: BrokerHandle | undefined;
  const pool = new NodePool();
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await pool.cleanup();
    await broker?.stop();
  });
  return {
    pool,
    get url() {
      if (!broker) throw new Error('aedesSuite: the broker starts in beforeAll; read url inside a hook or test');
      return broker.url;
    },
  };
}

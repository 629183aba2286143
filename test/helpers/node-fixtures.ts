/**
 * Fixtures for intent-layer tests: temp data dirs, nodes with simple handlers, waiting on events.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Answer, IntentHandler } from '../../src/intent/types.js';
import { createNode, type DamesoNode, type NodeOptions } from '../../src/node.js';

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

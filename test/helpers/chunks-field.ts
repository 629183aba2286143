/**
 * A field of real nodes for the chunks tests: bt storage nodes and plain nodes against one real
 * broker, each with its own data dir and chunks service; child-process holders that can be SIGKILLed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChunksService, type ChunksServiceOptions, createChunksService } from '../../src/chunks/index.js';
import { alwaysYesGate } from '../../src/intent/index.js';
import { silentLogger } from '../../src/log.js';
import type { DamesoNode } from '../../src/node.js';
import { createNode } from '../../src/node.js';

export interface FieldNode {
  id: string;
  node: DamesoNode;
  chunks: ChunksService;
  dataDir: string;
}

export interface Field {
  root: string;
  start(id: string, o?: { roles?: string[]; chunks?: ChunksServiceOptions; dataDir?: string }): Promise<FieldNode>;
  /** A bt node in a child process (same data-dir layout); resolves once it printed `ready`. */
  spawn(id: string, dataDir?: string): Promise<ChildProcess>;
  stopAll(): Promise<void>;
}

const CHILD = join(import.meta.dirname, 'chunks-node-child.ts');

export async function createField(brokerUrl: string): Promise<Field> {
  const root = await mkdtemp(join(tmpdir(), 'dameso-chunks-field-'));
  const nodes: FieldNode[] = [];
  const children: ChildProcess[] = [];
  return {
    root,
    async start(id, o = {}) {
      const dataDir = o.dataDir ?? join(root, id);
      const chunks = createChunksService({ fetchDeadlineMs: 2000, deadlineMs: 2000, ...o.chunks });
      const node = createNode({
        id,
        roles: o.roles ?? ['bt'],
        broker: brokerUrl,
        dataDir,
        services: [chunks],
        // The chunk layer's answers, not the limiters' (a loaded CI box would say cpu_busy at random).
        gate: alwaysYesGate,
        durability: 'none',
        log: silentLogger,
      });
      await node.start();
      const f = { id, node, chunks, dataDir };
      nodes.push(f);
      return f;
    },
    async spawn(id, dataDir = join(root, id)) {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, brokerUrl, id, dataDir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let err = '';
      child.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
      });
      await new Promise<void>((resolve, reject) => {
        child.stdout?.on('data', (d: Buffer) => {
          if (d.toString().includes('ready')) resolve();
        });
        child.once('exit', (code, sig) =>
          reject(new Error(`child ${id} exited (${code ?? sig}) before ready: ${err}`)),
        );
      });
      return child;
    },
    async stopAll() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      for (const n of nodes.reverse()) await n.node.stop().catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** `dameso map …` run in-process (only this command registered), returning what it printed. */
import { Command } from 'commander';
import { vi } from 'vitest';
import { registerMap } from '../../src/cli/map.js';

export async function runMapInProcess(args: string[]): Promise<string> {
  const program = new Command('dameso').exitOverride();
  registerMap(program);
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'dameso', 'map', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { encode } from '../../src/protocol/index.js';
import { connectClient } from '../helpers/broker-clients.js';
import { intent } from '../protocol/fixtures.js';

describe('dameso broker (child process)', () => {
  it('prints where it listens, drops garbage, prints counts and stops cleanly on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'test/helpers/broker-cli-child.ts',
        'broker',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--ws-port',
        '0',
        '--stats-ms',
        '0',
        '--json',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DAMESO_LOG_LEVEL: 'silent' } },
    );
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const listening = JSON.parse((await lines.next()).value as string);
    expect(listening).toMatchObject({ event: 'listening', host: '127.0.0.1' });
    expect(listening.wsPort).toBeGreaterThan(0);
    const client = await connectClient(`mqtt://127.0.0.1:${listening.port}`);
    await client.publishAsync('dameso/v1/intent/want_chunk', Buffer.from([0xff]), { qos: 1 });
    await client.publishAsync('dameso/v1/intent/want_chunk', encode(intent()), { qos: 1 });
    await client.endAsync();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const rest: Record<string, unknown>[] = [];
    for (let next = await lines.next(); !next.done; next = await lines.next()) rest.push(JSON.parse(next.value));
    expect(await exited).toBe(0);
    expect(rest[0]).toMatchObject({ event: 'stopping', signal: 'SIGTERM' });
    expect(rest[1]).toMatchObject({
      event: 'stopped',
      checked: 2,
      passed: 1,
      droppedTotal: 1,
      dropped: { bad_cbor: 1 },
    });
  });

  it('a SIGTERM sent the moment the listening line is out still stops it cleanly (exit 0)', async () => {
    // A supervisor may stop the broker as soon as it reads the line; the handlers are in place by then.
    for (let i = 0; i < 2; i++) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'test/helpers/broker-cli-child.ts', 'broker', '--host', '127.0.0.1', '--port', '0'],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DAMESO_LOG_LEVEL: 'silent' } },
      );
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      );
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      expect((await lines.next()).value).toMatch(/^dameso broker listening on mqtt:/);
      child.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
    }
  });
});

/**
 * The descriptor limit: Node raises its soft limit to the hard one when it starts, and the broker
 * fits its default connection limit under it, logs it, and warns when --max-connections does not fit.
 */
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { parseFdLimit } from '../../broker/fd-limit.js';
import { type BrokerChild, startBrokerChild } from '../helpers/hostile.js';

let broker: BrokerChild | undefined;
afterEach(() => {
  broker?.kill();
  broker = undefined;
});

const limits = (b: BrokerChild) => b.listening.limits as { maxConnections: number; fdLimit: { soft: number } };

describe('descriptor limit', () => {
  it('a Node process started with a soft limit below its hard limit runs at the hard limit', () => {
    const text = execFileSync('bash', [
      '-c',
      `ulimit -Sn 256 && ulimit -Hn 4096 && exec "$0" -e "process.stdout.write(require('fs').readFileSync('/proc/self/limits', 'utf8'))"`,
      process.execPath,
    ]).toString();
    expect(parseFdLimit(text)).toEqual({ soft: 4096, hard: 4096 });
  });

  it('under a limit of 512 the default max connections is 512 minus the reserve; a larger one is kept and warned about', async () => {
    broker = await startBrokerChild([], 'info', 512);
    expect(limits(broker)).toMatchObject({ maxConnections: 448, fdLimit: { soft: 512 } });
    expect(broker.logs.find((l) => l.msg === 'connection limits')).toMatchObject({ fdLimit: { soft: 512 } });
    await broker.stop();

    broker = await startBrokerChild(['--max-connections', '1000'], 'warn', 512);
    expect(limits(broker).maxConnections).toBe(1000);
    await broker.stop();
    expect(broker.logs.map((l) => l.msg)).toContainEqual(
      expect.stringMatching(/^max connections exceeds the descriptor limit minus its reserve/),
    );
  });
});

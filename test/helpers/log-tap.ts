/** A real pino logger whose JSON records a test reads and waits on (no sleeps). */
import { Writable } from 'node:stream';
import { pino } from 'pino';

export interface LogRecord {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

export function logTap(level: 'debug' | 'info' = 'debug') {
  const records: LogRecord[] = [];
  const waiters = new Set<() => void>();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') records.push(JSON.parse(line) as LogRecord);
      for (const w of [...waiters]) w();
      done();
    },
  });
  const log = pino({ level }, sink);
  const named = (msg: string) => records.filter((r) => r.msg === msg);
  /** Resolves once `n` records have `msg`; rejects after `timeoutMs` (a hang guard). */
  const until = (msg: string, n = 1, timeoutMs = 15_000): Promise<LogRecord[]> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${n} log line(s) "${msg}" (got ${named(msg).length})`));
      }, timeoutMs);
      const check = () => {
        const got = named(msg);
        if (got.length < n) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(got);
      };
      waiters.add(check);
      check();
    });
  return { log, records, named, until };
}

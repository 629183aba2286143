import { expect, test } from 'vitest';
import { prettyLogs } from '../src/log.js';
import { prettyFromJson, prettyLine } from '../src/log-pretty.js';

const T = Date.UTC(2026, 11, 7, 21, 5, 9, 42);

test('a pino record as one line: time, level, message, key=values (pid, hostname, name hidden)', () => {
  const line = prettyLine(
    {
      level: 30,
      time: T,
      pid: 1,
      hostname: 'pi',
      name: 'dameso',
      node: 'pi-7',
      msg: 'transport: back',
      session: 4,
      broker: 'mqtt://hub:1883',
      awayMs: 1200,
    },
    { zone: 'utc' },
  );
  expect(line).toBe('21:05:09.042 INFO  transport: back node=pi-7 session=4 broker=mqtt://hub:1883 awayMs=1200\n');
});

test('values with spaces are quoted, objects are JSON, an error shows its message, not its stack', () => {
  const line = prettyLine(
    {
      level: 40,
      time: T,
      msg: 'chunks: withdraw failed',
      reason: 'connection reset',
      roles: ['bt', 'mapper'],
      err: { type: 'Error', message: 'not connected', stack: 'Error: not connected\n    at x' },
    },
    { zone: 'utc' },
  );
  expect(line).toBe(
    '21:05:09.042 WARN  chunks: withdraw failed reason="connection reset" roles=["bt","mapper"] err="not connected"\n',
  );
});

test('colours only when asked: the level painted, keys dimmed', () => {
  const plain = prettyLine({ level: 50, time: T, msg: 'x', a: 1 }, { zone: 'utc' });
  expect(plain).not.toContain('\u001b[');
  const coloured = prettyLine({ level: 50, time: T, msg: 'x', a: 1 }, { zone: 'utc', colours: true });
  expect(coloured).toContain('\u001b[31mERROR\u001b[0m');
  expect(coloured).toContain('\u001b[2ma=\u001b[0m1');
});

test('a line that is not JSON passes through', () => {
  expect(prettyFromJson('not json')).toBe('not json\n');
});

test('auto is pretty on a terminal and JSON elsewhere; pretty and json force it', () => {
  expect(prettyLogs({ format: 'auto', isTty: true })).toBe(true);
  expect(prettyLogs({ format: 'auto', isTty: false })).toBe(false);
  expect(prettyLogs({ format: 'pretty', isTty: false })).toBe(true);
  expect(prettyLogs({ format: 'json', isTty: true })).toBe(false);
});

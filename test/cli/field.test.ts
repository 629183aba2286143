import { expect, test } from 'vitest';
import { runCli } from '../helpers/node-cli.js';

test('dameso field --duration --nodes --json: embedded broker, nodes of both roles, a summary', async () => {
  const r = await runCli(['field', '--duration', '2', '--nodes', '4', '--rate', '30', '--deadline', '200', '--json']);
  expect(r.code).toBe(0);
  const s = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
    nodes: number;
    intents: number;
    yes: number;
    no: number;
    silence: number;
    replyP50Ms: number;
    replyP99Ms: number;
  };
  expect(s.nodes).toBe(4);
  expect(s.intents).toBeGreaterThan(0);
  expect(s.yes + s.no + s.silence).toBeGreaterThan(0);
  expect(s.replyP99Ms).toBeGreaterThanOrEqual(s.replyP50Ms);
});

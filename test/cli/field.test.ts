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

test('dameso field on a small board: its limiters refuse, and the summary counts NO by reason', async () => {
  // pi-zero-2w: 600 intents per 10 s and a 160 MiB RSS budget. Four nodes at 400 intents/s give each
  // node ~600 in 2 s (past the 70% rate_limited mark); a dev process may also be past the board's RSS
  // budget (memory_low, checked first): either way the Pi-sized node says NO, with its reason.
  const r = await runCli(['field', '--duration', '2', '--nodes', '4', '--rate', '400', '--device', 'pi-zero-2w']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/board pi-zero-2w: each answers up to 600 intents per 10 s/);
  const final = r.stdout.trim().split('\n').at(-1) ?? '';
  expect(final).toMatch(/^final: .* no=[1-9]\d* \((rate_limited|memory_low|cpu_busy) \d+/);
});

test('dameso field --device with an unknown board exits 78 before starting anything', async () => {
  const r = await runCli(['field', '--duration', '1', '--device', 'pi-9']);
  expect(r.code).toBe(78);
  expect(r.stderr).toMatch(/unknown board "pi-9"/);
});

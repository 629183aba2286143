/**
 * The fleet's misbehaving nodes on a real broker with real nodes: a silent node is in the
 * requester's `silence` (never `yes`), a slow one answers YES only after its delay, or not at all
 * past the deadline (silence); the flags that ask for them parse to the same behaviours.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { answerBehaviourOf } from '../../src/cli/node-behaviour.js';
import { parseSimulate } from '../../src/cli/node-flags.js';
import type { AnswerBehaviour } from '../../src/intent/index.js';
import { type BrokerHandle, startAedes } from '../helpers/brokers.js';
import { fixedHandler, NodePool, YES } from '../helpers/node-fixtures.js';

const KIND = 'want_chunk';
const SLOW_MS = 300;
const DEADLINE_MS = 1_500;

let broker: BrokerHandle;
const pool = new NodePool();
beforeAll(async () => {
  broker = await startAedes();
});
afterEach(() => pool.cleanup());
afterAll(() => broker.stop());

async function responder(id: string, answerBehaviour?: AnswerBehaviour): Promise<void> {
  await pool.start(broker.url, id, {
    roles: ['bt'],
    handlers: [fixedHandler(KIND, 'bt', YES('data'))],
    ...(answerBehaviour ? { answerBehaviour } : {}),
  });
}

describe('answer behaviours on a real broker', () => {
  test('silent: in silence, never yes; slow: yes after its delay; honest: yes at once', async () => {
    await responder('honest');
    await responder('silent', { mode: 'silent' });
    await responder('slow', { mode: 'slow', delayMs: SLOW_MS });
    const req = await pool.start(broker.url, 'req');
    const out = await req.declare(KIND, { subject: 'x', deadlineMs: DEADLINE_MS });
    expect([...out.expected].sort()).toEqual(['honest', 'silent', 'slow']);
    expect(out.yes.map((r) => r.envelope.from).sort()).toEqual(['honest', 'slow']);
    expect(out.silence).toEqual(['silent']);
    const slow = out.yes.find((r) => r.envelope.from === 'slow');
    expect(slow?.latencyMs).toBeGreaterThanOrEqual(SLOW_MS);
    const honest = out.yes.find((r) => r.envelope.from === 'honest');
    expect(honest?.latencyMs).toBeLessThan(slow?.latencyMs ?? 0);
  });

  test('slow past the deadline: not sent, the requester sees silence', async () => {
    await responder('too-slow', { mode: 'slow', delayMs: 600 });
    const req = await pool.start(broker.url, 'req2');
    const out = await req.declare(KIND, { subject: 'x', deadlineMs: 200 });
    expect(out.yes).toEqual([]);
    expect(out.silence).toEqual(['too-slow']);
  });
});

describe('the testing-aid flags', () => {
  test('--silent, --answer-delay and --simulate seed=N', () => {
    expect(answerBehaviourOf({})).toBeUndefined();
    expect(answerBehaviourOf({ silent: true })).toEqual({ mode: 'silent' });
    expect(answerBehaviourOf({ answerDelay: '800' })).toEqual({ mode: 'slow', delayMs: 800 });
    expect(() => answerBehaviourOf({ answerDelay: 'soon' })).toThrow(/--answer-delay: expected milliseconds/);
    expect(() => answerBehaviourOf({ silent: true, answerDelay: '5' })).toThrow(/give one of them/);
    expect(parseSimulate('temp,bias=8,seed=42')).toEqual({ metric: 'temp', bias: 8, seed: 42 });
    expect(() => parseSimulate('temp,seed=-1')).toThrow(/seed must be a whole number/);
  });
});

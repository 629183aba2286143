/**
 * The built-in checks on a recorded fleet (real series folders written by the fixture): all hold on
 * a sound run, and each fails, named, when its rule is broken.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { type ChecksResult, runChecks } from '../../src/fleet/checks.js';
import { type FixtureOptions, ROUNDS, START_MS, writeFleetFixture } from '../helpers/fleet-fixture.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function judge(o: FixtureOptions = {}, rounds = 3): Promise<ChecksResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dameso-checks-'));
  dirs.push(dir);
  const f = await writeFleetFixture(dir, o);
  return runChecks({
    ...f,
    runStartMs: START_MS,
    reputationRounds: rounds,
    truthToleranceUnits: 0.5,
    pulled: { chunks: 4, mismatched: 0 },
  });
}

const check = (r: ChecksResult, name: string) => r.checks.find((c) => c.name === name);

describe('fleet checks', () => {
  test('a sound run: every check named and ok, the figures for the report', async () => {
    const r = await judge();
    expect(
      r.checks.map((c) => [c.name, c.ok]),
      JSON.stringify(r.checks),
    ).toEqual([
      ['classification', true],
      ['truth', true],
      ['reputation', true],
      ['storage', true],
    ]);
    expect(r.ok).toBe(true);
    expect(check(r, 'classification')?.detail).toMatch(/offline 2 with their Will, 0 without; 0 answers while dead/);
    expect(r.cells).toHaveLength(2);
    for (const c of r.cells) {
      expect(c.rounds).toBe(8 * ROUNDS);
      expect(c.liars).toBe(1);
      // One liar in eight: the robust median stays near the truth, the plain mean is pulled by bias/7.
      expect(c.error.median).toBeLessThan(0.5);
      expect(c.error.plainMean).toBeGreaterThan(c.error.median);
    }
    expect(r.latency.yes.n).toBeGreaterThan(0);
    expect(r.latency.silenceClose).toMatchObject({ n: 116, p50: 2000 }); // 96 survey closes at 2 s, 20 at 500 ms
    expect(r.seconds.map((s) => s.s)).toContain(10);
    expect(r.seconds.find((s) => s.s === 10)?.offline).toBe(1);
    const last = r.reputation.at(-1);
    expect(last?.liarMax).toBeLessThan(last?.honestMin ?? 0);
  });

  test('a silent node that answers fails classification, named, with an example', async () => {
    const r = await judge({ silentAnswers: true });
    expect(r.ok).toBe(false);
    expect(check(r, 'classification')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/1 answers.*answered req-3/),
    });
    expect(check(r, 'truth')?.ok).toBe(true);
  });

  test('offline without a Will fails classification', async () => {
    const r = await judge({ offlineWithoutWill: true });
    expect(check(r, 'classification')).toMatchObject({ ok: false, detail: expect.stringMatching(/2 without/) });
  });

  test('a killed node that answers between its Will and its restart fails classification', async () => {
    const r = await judge({ killedAnswers: true });
    expect(check(r, 'classification')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(
        /1 answers while dead \(e\.g\. fleet-requester: fleet-\d+ answered req-11 during its kill\)/,
      ),
    });
  });

  test('liars that lie only late are not separated within R rounds: reputation fails, said per surveyor', async () => {
    const r = await judge({ liarsHonestRounds: 5 }, 2);
    expect(check(r, 'reputation')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/within 2 rounds.*; not: fleet-/),
    });
  });

  test('a pulled chunk that does not match its id fails storage', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dameso-checks-'));
    dirs.push(dir);
    const f = await writeFleetFixture(dir);
    const r = await runChecks({
      ...f,
      runStartMs: START_MS,
      reputationRounds: 3,
      truthToleranceUnits: 0.5,
      pulled: { chunks: 4, mismatched: 1 },
    });
    expect(check(r, 'storage')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/4 chunks pulled back, 1 not matching/),
    });
  });
});

describe('liar majority', () => {
  test('a round where liars are half the responders or more is not judged; one where they are fewer is', async () => {
    const { liarMajority, separationRounds } = await import('../../src/fleet/checks-truth.js');
    expect(liarMajority(5, 9)).toBe(true);
    expect(liarMajority(5, 10)).toBe(true);
    expect(liarMajority(4, 9)).toBe(false);
    expect(liarMajority(0, 0)).toBe(false);
    const sample = (cell: string, round: number, liars: number[], honest: number[]) => ({
      surveyor: 's',
      cell,
      round,
      liars,
      honest,
    });
    const sep = separationRounds([
      // Cell a: 5 liars of 9, never separated: not judged.
      sample('a', 1, [0.5, 0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]),
      sample('a', 2, [0.6, 0.6, 0.6, 0.6, 0.6], [0.1, 0.1, 0.1, 0.1]),
      // Cell b: 2 liars of 6, separated at round 2.
      sample('b', 1, [0.5, 0.5], [0.5, 0.5, 0.5, 0.5]),
      sample('b', 2, [0.2, 0.2], [0.6, 0.6, 0.6, 0.6]),
    ]);
    expect(sep.get('s/a')).toEqual({ rounds: 2, majority: true });
    expect(sep.get('s/b')).toEqual({ rounds: 2, round: 2 });
  });
});

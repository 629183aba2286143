/**
 * The plan from a seed: roles, liars dealt per cell, copiers repeating a liar, silent and slow
 * nodes, storage budgets, the ground truth per cell and the fault schedule, the same for the same
 * options; and --scenario FILE checked key by key.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { smoothField } from '../../devices/sensors/index.js';
import { readScenarioFile } from '../../src/cli/fleet-scenario.js';
import { countOf, planFleet } from '../../src/fleet/scenario.js';
import type { NodeSpec } from '../../src/fleet/spec.js';
import { cellOf, DEFAULT_CELL_PRECISION } from '../../src/observe/index.js';

const CTX = { dataDir: '/tmp/fleet-plan', durationS: 60 };
const cellOfSpec = (s: NodeSpec): string => cellOf(s.position?.lat ?? 0, s.position?.lon ?? 0, DEFAULT_CELL_PRECISION);
const ids = (specs: NodeSpec[], b: NodeSpec['behaviour']): string[] =>
  specs.filter((s) => s.behaviour === b).map((s) => s.id);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dameso-scenario-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('planFleet', () => {
  test('the same options give the same plan; another seed another one', () => {
    const o = { nodes: 40, bt: 8, liars: 0.3, silent: 2, slow: 2, killEveryS: 10, stallEveryS: 15, seed: 7 };
    expect(planFleet(o, CTX)).toEqual(planFleet(o, CTX));
    expect(ids(planFleet({ ...o, seed: 8 }, CTX).specs, 'liar')).not.toEqual(ids(planFleet(o, CTX).specs, 'liar'));
  });

  test('roles: --bt storage-only, --mappers mapper-only, the rest both; data folders per id', () => {
    const { specs } = planFleet({ nodes: 10, bt: 3, mappers: 4 }, CTX);
    expect(specs.map((s) => s.roles.join('+'))).toEqual([
      ...Array(3).fill('bt'),
      ...Array(4).fill('mapper'),
      ...Array(3).fill('bt+mapper'),
    ]);
    expect(specs[5]?.dataDir).toBe(path.join(CTX.dataDir, 'fleet-5'));
    expect(specs.every((s) => s.behaviour === 'honest')).toBe(true);
  });

  test('mappers at their cell centre, truth = the field there; liars dealt evenly per cell', () => {
    const plan = planFleet({ nodes: 48, cells: 4, liars: 0.25, liarBiasUnits: 6, seed: 3 }, CTX);
    const field = smoothField();
    expect(Object.keys(plan.truth)).toHaveLength(4);
    for (const s of plan.specs) {
      const truth = plan.truth[cellOfSpec(s)];
      expect(truth).toBeCloseTo(field(s.position?.lat ?? 0, s.position?.lon ?? 0), 9);
    }
    for (const cell of Object.keys(plan.truth)) {
      const here = plan.specs.filter((s) => cellOfSpec(s) === cell);
      expect(here).toHaveLength(12);
      expect(here.filter((s) => s.behaviour === 'liar')).toHaveLength(3);
    }
    const liar = plan.specs.find((s) => s.behaviour === 'liar');
    expect(liar?.simulate).toMatchObject({ metric: 'temp', bias: 6, noiseSigma: 1 });
    expect(new Set(plan.specs.map((s) => s.simulate?.seed)).size).toBe(48);
  });

  test('a copier repeats a liar of its own cell: same seed, bias and position', () => {
    const { specs } = planFleet({ nodes: 30, cells: 3, liars: 0.4, copiers: 3, seed: 5 }, CTX);
    const copiers = specs.filter((s) => s.behaviour === 'copier');
    expect(copiers).toHaveLength(3);
    expect(ids(specs, 'liar')).toHaveLength(12 - 3);
    for (const c of copiers) {
      const original = specs.find((s) => s.behaviour === 'liar' && s.simulate?.seed === c.simulate?.seed);
      expect(original?.position).toEqual(c.position);
      expect(original?.simulate).toEqual(c.simulate);
    }
  });

  test('silent and slow nodes are never liars; disk-full budgets on storage nodes; K capped', () => {
    const { specs } = planFleet(
      {
        nodes: 20,
        bt: 3,
        liars: 5,
        silent: 0.1,
        slow: 3,
        slowDelayMs: 700,
        diskFull: 2,
        diskBudgetBytes: 4096,
        replicate: 5,
      },
      CTX,
    );
    expect(ids(specs, 'silent')).toHaveLength(2);
    expect(specs.filter((s) => s.behaviour === 'slow').map((s) => s.answerDelayMs)).toEqual([700, 700, 700]);
    expect(ids(specs, 'liar')).toHaveLength(5);
    const storage = specs.filter((s) => s.roles.includes('bt'));
    expect(storage.filter((s) => s.storageBudgetBytes === 4096)).toHaveLength(2);
    expect(specs.filter((s) => s.storageBudgetBytes !== undefined).every((s) => s.roles.includes('bt'))).toBe(true);
    expect(Math.max(...specs.map((s) => s.replicate ?? 0))).toBe(5);
  });

  test('faults every S seconds over the run, in time order; the stall group fixed for the run', () => {
    const { faults } = planFleet(
      { nodes: 20, killEveryS: 20, brokerRestartEveryS: 25, stallEveryS: 30, stallForS: 4, stallNodes: 3 },
      CTX,
    );
    expect(faults.faults.map((f) => [f.atS, f.kind])).toEqual([
      [20, 'kill'],
      [25, 'broker-restart'],
      [30, 'stall'],
      [40, 'kill'],
      [50, 'broker-restart'],
    ]);
    const stall = faults.faults.find((f) => f.kind === 'stall');
    expect(stall?.targets).toHaveLength(3);
    expect(stall?.durationS).toBe(4);
  });

  test('countOf: a fraction of the eligible nodes or a whole count, capped', () => {
    expect(countOf(0.25, 40)).toBe(10);
    expect(countOf(3, 40)).toBe(3);
    expect(countOf(99, 40)).toBe(40);
    expect(countOf(0, 40)).toBe(0);
  });
});

describe('--scenario FILE', () => {
  const file = async (name: string, body: string): Promise<string> => {
    const f = path.join(dir, name);
    await writeFile(f, body);
    return f;
  };

  test('the keys of the flags, units in their names', async () => {
    const f = await file('ok.json', JSON.stringify({ liars: 0.3, liarBiasUnits: 8, stallEveryS: 15, killEveryS: 5 }));
    expect(await readScenarioFile(f)).toEqual({ liars: 0.3, liarBiasUnits: 8, stallEveryS: 15, killEveryS: 5 });
  });

  test('an unknown key, a bad value, bad JSON, a missing file: one coded line naming the key', async () => {
    const unknown = await file('unknown.json', '{"liars": 0.3, "liar_bias": 8}');
    await expect(readScenarioFile(unknown)).rejects.toMatchObject({
      code: 'DAMESO_BAD_CONFIG',
      message: expect.stringMatching(/unknown key "liar_bias".*known keys: bt, mappers/),
    });
    const bad = await file('bad.json', '{"cells": 2.5}');
    await expect(readScenarioFile(bad)).rejects.toThrow(/config "cells": must be a whole number/);
    const share = await file('share.json', '{"liars": 1.5}');
    await expect(readScenarioFile(share)).rejects.toThrow(
      /config "liars": must be a fraction in \(0,1\) or a whole count/,
    );
    const text = await file('text.json', '{"seed": "x"}');
    await expect(readScenarioFile(text)).rejects.toThrow(/config "seed": expected a number/);
    await expect(readScenarioFile(await file('broken.json', '{'))).rejects.toThrow(/not valid JSON/);
    await expect(readScenarioFile(path.join(dir, 'missing.json'))).rejects.toThrow(/cannot read/);
  });
});

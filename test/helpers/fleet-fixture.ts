/**
 * A recorded fleet, written as real series folders with the entries a fleet run leaves: a plan
 * (two cells of eight mappers, a liar in each, a silent node), every mapper's survey rounds (its
 * outcome, then the consensus computed by the real consensus code over its own reputation), and
 * the requester's outcomes around a SIGKILL (the Will, the offline outcome, the restart). Options
 * break one rule at a time, so the checks can be seen to fail.
 */
import { createPrng } from '../../devices/sensors/index.js';
import { createManualClock, type ManualClock } from '../../src/clock.js';
import type { FaultMark } from '../../src/fleet/faults.js';
import { planFleet } from '../../src/fleet/scenario.js';
import type { FleetPlan, NodeSpec } from '../../src/fleet/spec.js';
import { cellOf, consensusInput, DEFAULT_CELL_PRECISION, reputationView } from '../../src/observe/index.js';
import { createSeries, type EntryInput, type Series } from '../../src/series/index.js';

export const START_MS = 1_800_000_000_000;
export const ROUNDS = 6;
export const REQUESTER = 'fleet-requester';

export interface FixtureOptions {
  /** A silent node answers yes once at the requester. */
  silentAnswers?: boolean;
  /** Liars report the truth on their first rounds only, then lie (reputation never separates in R). */
  liarsHonestRounds?: number;
  /** The killed node is counted offline before its Will arrived. */
  offlineWithoutWill?: boolean;
  /** The killed node answers yes between its Will and its restart. */
  killedAnswers?: boolean;
}

export interface Fixture {
  plan: FleetPlan;
  marks: FaultMark[];
  requester: { id: string; dataDir: string };
}

const cellOfSpec = (s: NodeSpec): string => cellOf(s.position?.lat ?? 0, s.position?.lon ?? 0, DEFAULT_CELL_PRECISION);

async function open(dir: string, clock: ManualClock): Promise<Series> {
  const s = createSeries({ dir: `${dir}/series`, clock, durability: 'always' });
  await s.open();
  return s;
}

/** A perspective's noise: the median of many readings of a sd-1 sensor, seeded by node and round. */
function noise(id: string, round: number): number {
  let h = round * 7919;
  for (const c of id) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return 0.15 * createPrng(h).gaussian();
}

export async function writeFleetFixture(dataDir: string, o: FixtureOptions = {}): Promise<Fixture> {
  const plan = planFleet(
    { nodes: 16, cells: 2, liars: 2, silent: 1, liarBiasUnits: 8, seed: 11 },
    { dataDir, durationS: 30 },
  );
  const clock = createManualClock(START_MS);
  await writeSurveys(plan, clock, o);
  const killed = plan.specs.find((s) => s.behaviour === 'honest')?.id ?? 'fleet-0';
  const marks: FaultMark[] = [{ kind: 'kill', atS: 10, startS: 10, endS: 12, nodes: [killed], ok: true }];
  const requester = { id: REQUESTER, dataDir: `${dataDir}/${REQUESTER}` };
  await writeRequester(plan, requester.dataDir, killed, o);
  return { plan, marks, requester };
}

async function writeSurveys(plan: FleetPlan, clock: ManualClock, o: FixtureOptions): Promise<void> {
  const mappers = plan.specs.filter((s) => s.roles.includes('mapper'));
  for (const m of mappers) {
    clock.setWall(START_MS + 20_000); // after the kill window
    const series = await open(m.dataDir, clock);
    let rep = reputationView.initial();
    const cell = cellOfSpec(m);
    const others = mappers.filter((x) => x.id !== m.id);
    for (let round = 1; round <= ROUNDS; round++) {
      clock.advance(2_000);
      const here = others.filter((x) => cellOfSpec(x) === cell && x.behaviour !== 'silent');
      const outcome: EntryInput = {
        event: 'intent_outcome',
        id: `${m.id}-r${round}`,
        kind: 'want_observations',
        subject: cell,
        expected: others.map((x) => x.id),
        yes: here.map((x) => ({ node: x.id, ms: 3 })),
        no: [],
        offline: [],
        silence: others.filter((x) => !here.includes(x)).map((x) => x.id),
        closedBy: 'deadline',
        ms: 2_000,
      };
      rep = reputationView.apply(rep, await series.append(outcome));
      const lying = round > (o.liarsHonestRounds ?? 0);
      const perspectives = here.map((x) => ({
        node: x.id,
        value: (plan.truth[cell] as number) + noise(x.id, round) + (lying ? (x.simulate?.bias ?? 0) : 0),
      }));
      const c = consensusInput(cell, 'temp', perspectives, rep, series.lastSeq, {
        method: 'median',
        maxShare: 0.2,
        minResponders: 3,
      });
      rep = reputationView.apply(rep, await series.append(c));
    }
    await series.close();
  }
}

async function writeRequester(plan: FleetPlan, dir: string, killed: string, o: FixtureOptions): Promise<void> {
  const clock = createManualClock(START_MS - 1_000);
  const series = await open(dir, clock);
  const ids = plan.specs.map((s) => s.id);
  for (const n of ids) await series.append({ event: 'peer_added', node: n, session: 1, epoch: 1, roles: ['bt'] });
  const silent = plan.specs.filter((s) => s.behaviour === 'silent').map((s) => s.id);
  for (let i = 0; i < 20; i++) {
    // Intent i is declared at i s from the start and closes 500 ms later.
    clock.setWall(START_MS + i * 1_000);
    const dead = i >= 10 && i < 12;
    if (i === 10 && !o.offlineWithoutWill)
      await series.append({ event: 'peer_removed', node: killed, session: 1, epoch: 1, why: 'will' });
    if (i === 12) await series.append({ event: 'peer_added', node: killed, session: 2, epoch: 1, roles: ['bt'] });
    clock.setWall(START_MS + i * 1_000 + 500);
    const zombie = o.killedAnswers === true && i === 11;
    const answering = ids.filter((n) => !silent.includes(n) && (!(dead && n === killed) || zombie));
    const yes = answering.map((n, k) => ({ node: n, ms: 1 + ((k * 37 + i * 11) % 50) / 10 }));
    if (o.silentAnswers && i === 3) yes.push({ node: silent[0] as string, ms: 2 });
    await series.append({
      event: 'intent_outcome',
      id: `req-${i}`,
      kind: 'want_chunk',
      subject: `c${i}`,
      expected: ids,
      yes,
      no: [],
      offline: dead && !zombie ? [killed] : [],
      silence: o.silentAnswers && i === 3 ? [] : silent,
      closedBy: 'deadline',
      ms: 500,
    });
  }
  await series.close();
}

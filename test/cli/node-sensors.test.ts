/**
 * `dameso node` with sensors: a real child process with a simulated sensor at a fixed position
 * observes, answers `want_observations` for its cell with YES (its own observations), and stops
 * cleanly on SIGTERM. Bad flag values exit 64 naming the flag; a serial port that cannot be opened
 * exits 69 (binding missing or bad path), never a stack trace.
 */
import ngeohash from 'ngeohash';
import { describe, expect, test } from 'vitest';
import { parsePortSpec, parsePosition, parseSimulate } from '../../src/cli/node-flags.js';
import { finished, printed, runCli, spawnCli } from '../helpers/node-cli.js';
import { aedesSuite, until } from '../helpers/node-fixtures.js';

const suite = aedesSuite();
const { pool } = suite;

describe('sensor flag parsing', () => {
  test('PATH[:BAUD], LAT,LON and METRIC[,bias=N][,noise=N]', () => {
    expect(parsePortSpec('--gps', '/dev/ttyACM0', 4800)).toEqual({ path: '/dev/ttyACM0', baudRate: 4800 });
    expect(parsePortSpec('--gps', '/dev/serial0:9600', 4800)).toEqual({ path: '/dev/serial0', baudRate: 9600 });
    expect(() => parsePortSpec('--gps', '/dev/ttyUSB9:abc', 4800)).toThrow(/--gps: baud after "\/dev\/ttyUSB9:"/);
    expect(() => parsePortSpec('--gps', '/dev/ttyUSB9:', 4800)).toThrow(/--gps: baud/);
    const byPath = '/dev/serial/by-path/platform-3f980000.usb-usb-0:1.3:1.0-port0';
    expect(parsePortSpec('--gps', byPath, 4800)).toEqual({ path: byPath, baudRate: 4800 });
    expect(parsePortSpec('--gps', `${byPath}:9600`, 4800)).toEqual({ path: byPath, baudRate: 9600 });
    expect(parsePosition('48.8566, 2.3522')).toEqual({ lat: 48.8566, lon: 2.3522 });
    expect(() => parsePosition('95,2')).toThrow(/--position: latitude/);
    expect(() => parsePosition('48.8')).toThrow(/--position: expected LAT,LON/);
    expect(parseSimulate('temp,bias=10,noise=0.5')).toEqual({ metric: 'temp', bias: 10, noiseSigma: 0.5 });
    expect(parseSimulate('temp')).toEqual({ metric: 'temp', bias: 0 });
    expect(() => parseSimulate('temp,bias=x')).toThrow(/--simulate/);
    expect(() => parseSimulate('temp,gain=2')).toThrow(/unknown option "gain"/);
  });
});

test('bad flag values exit 64 naming the flag; an unopenable serial port exits 69', async () => {
  const dir = await pool.dir();
  const base = ['node', '--id', 'bad', '--broker', suite.url, '--data', dir, '--log-level', 'warn'];
  const pos = await runCli([...base, '--position', 'north']);
  expect(pos.code).toBe(64);
  expect(pos.stderr).toMatch(/--position/);
  const sim = await runCli([...base, '--simulate', 'temp']);
  expect(sim.code).toBe(64);
  expect(sim.stderr).toMatch(/--simulate: needs --position/);
  const gps = await runCli([...base, '--gps', '/dev/does-not-exist-dameso']);
  expect(gps.code).toBe(69);
  expect(gps.stderr).toMatch(/does-not-exist-dameso|binding/);
  expect(gps.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
});

test('dameso node --simulate temp --position … answers want_observations YES and stops on SIGTERM', async () => {
  const lat = 48.8566;
  const lon = 2.3522;
  const cell = ngeohash.encode(lat, lon, 7);
  const watcher = await pool.start(suite.url, 'watcher-obs');
  const child = spawnCli([
    'node',
    '--id',
    'sim1',
    '--broker',
    suite.url,
    '--data',
    await pool.dir(),
    '--position',
    `${lat},${lon}`,
    '--simulate',
    'temp,noise=0.5',
    '--log-level',
    'warn',
  ]);
  const done = finished(child);
  await printed(child, 'online');
  await until(() => watcher.roster.get('sim1')?.online === true);
  expect(watcher.roster.get('sim1')?.roles).toContain('mapper');
  // The simulated sensor reads once a second: ask until the first observation is in its series.
  let yes: unknown[] = [];
  for (let i = 0; i < 30 && yes.length === 0; i++) {
    const o = await watcher.declare('want_observations', { subject: cell, deadlineMs: 500, to: ['sim1'] });
    yes = o.yes.map((y) => y.envelope.data);
  }
  expect(yes[0]).toMatchObject({ cell, obs: [expect.objectContaining({ metric: 'temp', cell })] });
  child.kill('SIGTERM');
  const r = await done;
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/1 sensor driver\(s\) at 48\.8566,2\.3522/);
  expect(r.stdout).toMatch(/node sim1 stopped/);
});

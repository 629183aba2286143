/**
 * Start-up of the CLI as a whole process: `dameso --version` and `dameso limits --help` (the limits
 * command parsed and its area loaded, before its sampling window) against a bare `node -e 0`, in
 * turn, wall seconds and CPU seconds (user + system, from bash's `times`).
 */
import { spawn } from 'node:child_process';
import { pairedRatio, type Spread, spread } from './stats.js';

interface Run {
  wallS: number;
  cpuS: number;
}

/** One run of `node ARGS` under bash, which prints its children's CPU times when it ends. */
function timedRun(nodeArgs: readonly string[]): Promise<Run> {
  const script = '"$0" "$@" >/dev/null 2>&1; times';
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('bash', ['-c', script, process.execPath, ...nodeArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('error', reject);
    child.once('exit', () => {
      const wallS = (performance.now() - t0) / 1000;
      // `times`: the shell's own user/sys, then its children's: "0m0.104s 0m0.020s".
      const children = out.trim().split('\n').at(-1) ?? '';
      const secs = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
      if (secs.length !== 2) return reject(new Error(`bench:footprint: cannot read bash times from "${out}"`));
      resolve({ wallS, cpuS: secs[0]! + secs[1]! });
    });
  });
}

export interface StartFigures {
  wallS: Spread;
  cpuS: Spread;
  bareNodeWallS: Spread;
  bareNodeCpuS: Spread;
  ratioWall: Spread;
  ratioCpu: Spread;
}

/** `runs` runs of the command and of `node -e 0`, in turn, after one warm-up of each. */
export async function measureStart(nodeArgs: readonly string[], runs: number): Promise<StartFigures> {
  const bare = ['-e', '0'];
  await timedRun(nodeArgs);
  await timedRun(bare);
  const a: Run[] = [];
  const b: Run[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(await timedRun(nodeArgs));
    b.push(await timedRun(bare));
  }
  const wall = (rs: Run[]) => rs.map((r) => r.wallS);
  const cpu = (rs: Run[]) => rs.map((r) => r.cpuS);
  return {
    wallS: spread(wall(a)),
    cpuS: spread(cpu(a)),
    bareNodeWallS: spread(wall(b)),
    bareNodeCpuS: spread(cpu(b)),
    ratioWall: pairedRatio(wall(a), wall(b)),
    ratioCpu: pairedRatio(cpu(a), cpu(b)),
  };
}

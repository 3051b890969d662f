/**
 * Part 3: CLI start-up. Median wall time of ≥ 10 fresh processes of each command, run round-robin so machine noise
 * hits all of them alike, beside `node -e 0` (the floor) and `aws --version` (the tool users know).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI, median, round, timeCommand } from './lib.js';

export interface StartupResult {
  runs: number;
  medians: Record<string, number>;
  ratios: Record<string, number>;
}

export async function benchStartup(runs = 15): Promise<StartupResult> {
  // A directory with no vidpipe.config.json, like a fresh checkout.
  const cwd = mkdtempSync(path.join(tmpdir(), 'vidpipe-bench-startup-'));
  const commands: Record<string, [string, string[]]> = {
    'node -e 0': [process.execPath, ['-e', '0']],
    'vidpipe --help': [process.execPath, [CLI, '--help']],
    'vidpipe simulate-complete --print': [process.execPath, [CLI, 'simulate-complete', '--print']],
  };
  if (spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0) commands['aws --version'] = ['aws', ['--version']];
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (const [name, [cmd, args]] of Object.entries(commands)) await timeCommand(cmd, args, { cwd }).catch(() => delete times[name]); // warm the file cache
  for (let i = 0; i < runs; i++) {
    for (const [name, [cmd, args]] of Object.entries(commands)) {
      if (!times[name]) continue;
      times[name].push(await timeCommand(cmd, args, { cwd }));
    }
  }
  rmSync(cwd, { recursive: true, force: true });
  const medians = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, round(median(v), 1)]));
  const floor = medians['node -e 0']!;
  const ratios = Object.fromEntries(Object.entries(medians).map(([k, v]) => [k, round(v / floor, 2)]));
  return { runs, medians, ratios };
}

/**
 * Runs the BUILT CLI (bin/vidpipe.js → dist/) as a child process, as a user would. `npm test` builds first; run
 * `npm run build` before running these files alone.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const cliPath = path.join(repoRoot, 'bin', 'vidpipe.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { cwd: string; env?: Record<string, string | undefined>; nodeArgs?: string[]; timeoutMs?: number }): Promise<CliRun> {
  if (!existsSync(path.join(repoRoot, 'dist', 'src', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  // A clean environment: no AWS or vidpipe settings leak in from the developer's shell.
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|VIDPIPE_|PORT$|HOST$)/.test(k)));
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), cliPath, ...args], {
    cwd: options.cwd,
    env: { ...base, NO_COLOR: '1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vidpipe ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the BUILT CLI (`node bin/vidpipe.js …`) as a child process, the way a user does. `npm test` builds first. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(REPO_ROOT, 'bin', 'vidpipe.js');

export function builtCliAvailable(): boolean {
  return existsSync(path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js'));
}

export interface CliChild {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnCli(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; nodeArgs?: string[] }): CliChild {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...options.env };
  // The tests' own credentials must not leak into the child unless a test passes them.
  for (const k of ['VIDPIPE_API_KEY', 'VIDPIPE_BASIC_AUTH', 'SLACK_WEBHOOK_URL', 'PORT', 'HOST', 'VIDPIPE_DB']) if (!options.env || !(k in options.env)) delete env[k];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c) => (out += c));
  child.stderr?.on('data', (c) => (err += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Runs the built CLI to the end (stdout and stderr fully read), killing it after `timeoutMs`. */
export async function runCli(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; nodeArgs?: string[]; timeoutMs?: number },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  if (!builtCliAvailable()) throw new Error('dist/ is missing: run `npm run build` first');
  const c = spawnCli(args, options);
  const closed = new Promise<void>((resolve) => c.child.on('close', () => resolve()));
  const timer = setTimeout(() => c.child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const { code } = await c.exited;
  await closed;
  clearTimeout(timer);
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

/** Starts `vidpipe listen --port 0 …` and resolves with its base URL once it says where it listens. */
export async function spawnListen(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CliChild & { url: string }> {
  const c = spawnCli(['listen', '--port', '0', ...args], options);
  const end = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const m = /listening on (http:\/\/[^\s/]+)/.exec(c.stderr());
    if (m) return Object.assign(c, { url: m[1] as string });
    const exit = await Promise.race([c.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 25))]);
    if (exit) throw new Error(`vidpipe listen exited (${exit.code ?? exit.signal}) before listening:\n${c.stderr()}`);
    if (Date.now() > end) {
      c.child.kill('SIGKILL');
      throw new Error(`vidpipe listen did not start:\n${c.stderr()}`);
    }
  }
}

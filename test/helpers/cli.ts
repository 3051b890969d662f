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
  /** Resolves once the process has exited AND its stdout/stderr are fully read ('close', not 'exit'). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Resolves with the match once `pattern` appears on the stream (default stderr) — output is written when the child
   * gets to it, so wait for what you assert rather than sleep. Rejects, with what was printed, on exit or timeout.
   */
  waitFor(pattern: RegExp, options?: { stream?: 'stdout' | 'stderr'; timeoutMs?: number }): Promise<RegExpExecArray>;
}

export function spawnCli(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; nodeArgs?: string[]; stdout?: number }): CliChild {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...options.env };
  // The tests' own credentials must not leak into the child unless a test passes them.
  for (const k of ['VIDPIPE_API_KEY', 'VIDPIPE_BASIC_AUTH', 'SLACK_WEBHOOK_URL', 'PORT', 'HOST', 'VIDPIPE_DB']) if (!options.env || !(k in options.env)) delete env[k];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], { cwd: options.cwd, env, stdio: ['ignore', options.stdout ?? 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c) => (out += c));
  child.stderr?.on('data', (c) => (err += c));
  // 'exit' can come before the last chunks of stdout/stderr are read; 'close' comes after both streams ended.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  let ended = false;
  void exited.then(() => (ended = true));
  const waitFor: CliChild['waitFor'] = (pattern, { stream = 'stderr', timeoutMs = 15_000 } = {}) =>
    new Promise((resolve, reject) => {
      const source = stream === 'stderr' ? child.stderr : child.stdout;
      const text = () => (stream === 'stderr' ? err : out);
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        source?.off('data', check);
        outcome();
      };
      const check = () => {
        const m = pattern.exec(text());
        if (m) settle(() => resolve(m));
        else if (ended) settle(() => reject(new Error(`the child exited before ${pattern} appeared on its ${stream}:\n${text()}`)));
      };
      const timer = setTimeout(() => settle(() => reject(new Error(`${pattern} did not appear on the child's ${stream} within ${timeoutMs} ms:\n${text()}`))), timeoutMs);
      // Runs after the listener above that appends the chunk (listeners run in the order they were added).
      source?.on('data', check);
      void exited.then(check);
      check();
    });
  return { child, stdout: () => out, stderr: () => err, exited, waitFor };
}

/** Runs the built CLI to the end (stdout and stderr fully read), killing it after `timeoutMs`. */
export async function runCli(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; nodeArgs?: string[]; timeoutMs?: number },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  if (!builtCliAvailable()) throw new Error('dist/ is missing: run `npm run build` first');
  const c = spawnCli(args, options);
  const timer = setTimeout(() => c.child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const { code } = await c.exited;
  clearTimeout(timer);
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

/**
 * Starts `vidpipe listen --port 0 …` and resolves with its base URL once it has printed its last start-up line
 * ("… Ctrl-C to stop"): every start-up line (database, auth, generated key) is written before it, on the same pipe.
 */
export async function spawnListen(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; /** An fd for the child's stdout (e.g. /dev/full). */ stdout?: number },
): Promise<CliChild & { url: string }> {
  const c = spawnCli(['listen', '--port', '0', ...args], options);
  try {
    await c.waitFor(/Ctrl-C to stop/, { timeoutMs: options.timeoutMs ?? 20_000 });
  } catch (err) {
    c.child.kill('SIGKILL');
    throw new Error(`vidpipe listen did not start: ${(err as Error).message}`);
  }
  const url = /listening on (http:\/\/[^\s/]+)/.exec(c.stderr())?.[1];
  if (!url) throw new Error(`vidpipe listen printed no address:\n${c.stderr()}`);
  return Object.assign(c, { url });
}

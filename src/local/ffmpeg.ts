/**
 * Finding and running ffmpeg/ffprobe for `vidpipe local`. They come from PATH (Debian's `ffmpeg` package) or from
 * VIDPIPE_FFMPEG / VIDPIPE_FFPROBE. Without them `vidpipe local` exits 2 with the install command.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';

export interface FfmpegBinaries {
  ffmpeg: string;
  ffprobe: string;
  /** "5.1.9-0+deb12u1" */
  version: string;
}

export const FFMPEG_INSTALL_HINT = 'Install it with `apt-get install -y ffmpeg` (Debian/Ubuntu; ffprobe comes with it), or point VIDPIPE_FFMPEG and VIDPIPE_FFPROBE at the binaries.';

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The binaries, or undefined when either is missing. */
export function locateFfmpeg(env: NodeJS.ProcessEnv = process.env): FfmpegBinaries | undefined {
  const ffmpeg = env.VIDPIPE_FFMPEG || onPath('ffmpeg', env);
  const ffprobe = env.VIDPIPE_FFPROBE || onPath('ffprobe', env);
  if (!ffmpeg || !ffprobe) return undefined;
  const r = spawnSync(ffmpeg, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) return undefined;
  const version = /ffmpeg version (\S+)/.exec(r.stdout)?.[1] ?? 'unknown';
  return { ffmpeg, ffprobe, version };
}

export function requireFfmpeg(env: NodeJS.ProcessEnv = process.env): FfmpegBinaries {
  const found = locateFfmpeg(env);
  if (!found)
    throw new UsageError('FFMPEG_MISSING', 'vidpipe local transcodes with ffmpeg and ffprobe, and neither was found on PATH.', { hint: FFMPEG_INSTALL_HINT });
  return found;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The last 8 KiB of stderr: enough for ffmpeg's error lines. */
  stderr: string;
}

const TAIL = 8 * 1024;

/** Runs a binary to the end; `onStdoutLine` sees each stdout line (ffmpeg -progress pipe:1). */
export function runProcess(
  bin: string,
  args: string[],
  options: { onStdoutLine?: (line: string) => void; onSpawn?: (pid: number) => void; signal?: AbortSignal; keepStdout?: boolean } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // detached: ffmpeg gets its own process group, so a Ctrl-C in the terminal reaches vidpipe only and vidpipe
    // decides what to stop (and a killed job is killed with its whole group).
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (options.keepStdout !== false) stdout += chunk;
      if (!options.onStdoutLine) return;
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) options.onStdoutLine(line.trim());
    });
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-TAIL);
    });
    const kill = () => killGroup(child.pid);
    options.signal?.addEventListener('abort', kill, { once: true });
    child.once('spawn', () => child.pid && options.onSpawn?.(child.pid));
    child.once('error', (err) => {
      options.signal?.removeEventListener('abort', kill);
      reject(err);
    });
    child.once('close', (code, signal) => {
      options.signal?.removeEventListener('abort', kill);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** SIGKILL to the process group (ffmpeg and anything it started). */
export function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** ffmpeg's last meaningful error line, for an error message. */
export function lastErrorLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.at(-1) ?? 'no message';
}

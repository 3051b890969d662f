/**
 * ffmpeg for the `vidpipe local` suites: whether it is installed, and short test clips made with its lavfi sources
 * (testsrc2 for the picture, sine for the sound), small and short so the suites stay fast. Without ffmpeg a suite
 * skips with a notice naming `apt-get install -y ffmpeg`; under CI (CI=true) a missing ffmpeg fails instead.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { locateFfmpeg } from '../../src/local/ffmpeg.js';

/** true when the local suites can run; false (with a notice) when they must skip; throws under CI. */
export function ffmpegAvailable(): boolean {
  if (locateFfmpeg()) return true;
  const notice = 'ffmpeg/ffprobe not found: the vidpipe local suites need them (apt-get install -y ffmpeg; .ci/run installs it)';
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI: ${notice}`);
  console.warn(`[skip] ${notice}`);
  return false;
}

export interface ClipOptions {
  seconds?: number;
  width?: number;
  height?: number;
  fps?: number;
  audio?: boolean;
  /** mp4 (default), mov, mkv … by extension. */
  name?: string;
}

/** A clip of testsrc2 (+ a 440 Hz sine) in `dir`; returns its path. */
export function makeClip(dir: string, o: ClipOptions = {}): string {
  const seconds = o.seconds ?? 2;
  const file = path.join(dir, o.name ?? `clip-${o.width ?? 160}x${o.height ?? 90}-${seconds}s${o.audio === false ? '-silent' : ''}.mp4`);
  const width = o.width ?? 160;
  const height = o.height ?? 90;
  // testsrc2 rounds odd sizes down to even ones, and libx264 refuses odd 4:2:0: an odd clip is scaled to its size
  // and encoded 4:4:4.
  const odd = width % 2 === 1 || height % 2 === 1;
  const args = ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=s=${width + (width % 2)}x${height + (height % 2)}:r=${o.fps ?? 25}:d=${seconds}`];
  if (o.audio !== false) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:d=${seconds}`);
  if (odd) args.push('-vf', `scale=${width}:${height}`);
  args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', odd ? 'yuv444p' : 'yuv420p');
  if (o.audio !== false) args.push('-c:a', 'aac', '-shortest');
  args.push(file);
  execFileSync(locateFfmpeg()!.ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  return file;
}

/**
 * Part 5: vidpipe local's overhead. A 10 s 720p test clip (testsrc2 + sine) through `vidpipe local` with the default
 * templates (mp4, hls, thumbnails: three jobs, one at a time): wall time from `vidpipe upload --local` starting to the
 * listener's read API showing every job COMPLETE — against the same ffmpeg commands (built by the same code from
 * the same job requests) run directly one after the other. The ratio is the runner's overhead: CLI start, storage,
 * probes, HLS playlists, events. Runs alternate; median, and the fastest of each. Alone: `npm run bench -- local` (BENCH_QUICK=1: one run).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultConfig } from '../src/config/config.js';
import { toWire } from '../src/local/api.js';
import { locateFfmpeg, runProcess } from '../src/local/ffmpeg.js';
import { buildFfmpegArgs, groupDir, parseJobSettings } from '../src/local/plan.js';
import { probe } from '../src/local/probe.js';
import { LOCAL_APP } from '../src/local/service.js';
import { buildJobRequest } from '../src/upload/job-request.js';
import { CLI, machine, median, round } from './lib.js';

async function waitForReady(child: ReturnType<typeof spawn>): Promise<{ listenerUrl: string }> {
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      try {
        resolve(JSON.parse(out));
      } catch {
        // not the whole document yet
      }
    });
    child.on('close', (code) => reject(new Error(`vidpipe local exited ${code}: ${err}`)));
  });
}

export async function benchLocal(options: { runs?: number; seconds?: number } = {}) {
  const ffmpeg = locateFfmpeg();
  if (!ffmpeg) throw new Error('ffmpeg is not installed (apt-get install -y ffmpeg)');
  const runs = options.runs ?? 2;
  const seconds = options.seconds ?? 10;
  const dir = mkdtempSync(path.join(tmpdir(), 'vidpipe-bench-local-'));
  const clip = path.join(dir, 'clip.mp4');
  execFileSync(ffmpeg.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=s=1280x720:r=25:d=${seconds}`, '-f', 'lavfi', '-i', `sine=d=${seconds}`, '-c:v', 'libx264', '-preset', 'veryfast', '-c:a', 'aac', '-shortest', clip]);
  const templates = defaultConfig(LOCAL_APP).templates;
  const local = spawn(process.execPath, [CLI, '--json', 'local', '--port', '0'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const rt = await waitForReady(local);
    const key = JSON.parse(readFileSync(path.join(dir, '.vidpipe', 'secrets.json'), 'utf8')).apiKeys[0] as string;

    async function throughVidpipe(i: number): Promise<number> {
      const started = performance.now();
      const out = execFileSync(process.execPath, [CLI, '--json', 'upload', clip, '--post', String(i), '--local', '--key', `posts/${i}/clip.mp4`], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'ignore'] });
      const ids = (JSON.parse(out) as { uploads: { jobs: { id: string }[] }[] }).uploads[0]!.jobs.map((j) => j.id);
      for (const id of ids)
        for (;;) {
          const res = await fetch(`${rt.listenerUrl}/api/videos/${id}`, { headers: { 'x-api-key': key } });
          const status = res.ok ? ((await res.json()) as { video: { status: string } }).video.status : undefined;
          if (status === 'COMPLETE') break;
          if (status === 'ERROR' || status === 'CANCELED') throw new Error(`job ${id} ended ${status}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      return performance.now() - started;
    }

    async function direct(i: number): Promise<number> {
      const info = await probe(ffmpeg!.ffprobe, clip);
      const out = path.join(dir, `direct-${i}`);
      const commands = templates.map((template) => {
        const request = buildJobRequest({ app: LOCAL_APP, template, roleArn: 'arn:aws:iam::000000000000:role/bench', outputBucket: 'out', input: { bucket: 'in', key: `posts/${i}/clip.mp4`, etag: 'bench' } });
        const spec = parseJobSettings(toWire(request.Settings) as Record<string, unknown>);
        for (const g of spec.groups) mkdirSync(groupDir(out, g), { recursive: true });
        return buildFfmpegArgs(spec, clip, info, out);
      });
      const started = performance.now();
      for (const args of commands) {
        const r = await runProcess(ffmpeg!.ffmpeg, args, { keepStdout: false });
        if (r.code !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
      }
      const ms = performance.now() - started;
      rmSync(out, { recursive: true, force: true });
      return ms;
    }

    const vidpipe: number[] = [];
    const ffmpegDirect: number[] = [];
    for (let i = 0; i < runs; i++) {
      vidpipe.push(await throughVidpipe(i + 1));
      ffmpegDirect.push(await direct(i + 1));
    }
    return {
      machine: machine(),
      clip: `${seconds} s 1280x720 25 fps H.264/AAC`,
      templates,
      runs,
      vidpipeMedianSeconds: round(median(vidpipe) / 1000, 2),
      ffmpegMedianSeconds: round(median(ffmpegDirect) / 1000, 2),
      ratio: round(median(vidpipe) / median(ffmpegDirect), 2),
      // On a shared machine one slow run moves a median of two a lot; the fastest runs show the overhead best.
      ratioOfFastest: round(Math.min(...vidpipe) / Math.min(...ffmpegDirect), 2),
      vidpipeSeconds: vidpipe.map((ms) => round(ms / 1000, 2)),
      ffmpegSeconds: ffmpegDirect.map((ms) => round(ms / 1000, 2)),
    };
  } finally {
    local.kill('SIGTERM');
    await new Promise((r) => local.once('close', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchLocal(), null, 2));
}

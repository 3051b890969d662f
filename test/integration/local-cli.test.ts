/**
 * `vidpipe local` and `vidpipe upload --local` as a user runs them (the built CLI in a temp folder): the whole loop,
 * the missing-ffmpeg message, and a hard kill mid-transcode followed by a restart.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../../src/local/ffmpeg.js';
import { ffmpegAvailable, makeClip } from '../helpers/ffmpeg.js';
import { runCli, spawnCli, type CliChild } from '../helpers/cli.js';
import { tempDir } from '../helpers/listener.js';

function startLocal(cwd: string, extra: string[] = []): CliChild & { ready: Promise<{ listenerUrl: string; mediaconvertEndpoint: string; storage: { location: string }; outputBucket: string }> } {
  const c = spawnCli(['--json', 'local', '--port', '0', '--preset', 'ultrafast', '--status-interval', '0.3', ...extra], { cwd });
  const ready = c.waitFor(/\}\s*$/, { stream: 'stdout', timeoutMs: 20_000 }).then(() => JSON.parse(c.stdout()));
  return Object.assign(c, { ready });
}

/** Uploads a 40 s clip for the HLS ladder and resolves once its ffmpeg runs, with the job id and ffmpeg's pid. */
async function transcodeLongClip(dir: string, local: CliChild, post: string): Promise<{ jobId: string; pid: number }> {
  const clip = makeClip(dir, { seconds: 40, width: 320, height: 180 });
  const up = await runCli(['--json', 'upload', clip, '--post', post, '--local', '--template', 'hls'], { cwd: dir });
  expect(up.code).toBe(0);
  const jobId = (JSON.parse(up.stdout) as { uploads: { jobs: { id: string }[] }[] }).uploads[0]!.jobs[0]!.id;
  await local.waitFor(new RegExp(`job ${jobId}: started`), { timeoutMs: 20_000 });
  const jobsFile = path.join(dir, '.vidpipe', 'local', 'jobs.json');
  for (let i = 0; i < 100; i++) {
    const pid = (JSON.parse(readFileSync(jobsFile, 'utf8')) as { jobs: { id: string; local?: { ffmpegPid?: number } }[] }).jobs.find((j) => j.id === jobId)?.local?.ffmpegPid;
    if (pid) return { jobId, pid };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${jobId} never recorded its ffmpeg pid`);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.runIf(ffmpegAvailable())('vidpipe local (CLI)', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('without ffmpeg on PATH: says how to install it and exits 2', async () => {
    const tmp = tempDir('vidpipe-local-cli-');
    cleanups.push(tmp.cleanup);
    const r = await runCli(['local', '--port', '0'], { cwd: tmp.dir, env: { PATH: '/nonexistent', VIDPIPE_FFMPEG: '', VIDPIPE_FFPROBE: '' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ffmpeg/);
    expect(r.stderr).toMatch(/apt-get install -y ffmpeg/);
  });

  it('upload --local without a running vidpipe local: exit 2, says to start it', async () => {
    const tmp = tempDir('vidpipe-local-cli-');
    cleanups.push(tmp.cleanup);
    const clip = makeClip(tmp.dir, { seconds: 0.5 });
    const r = await runCli(['upload', clip, '--post', '1', '--local'], { cwd: tmp.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/vidpipe local is not running/);
    expect(r.stderr).toMatch(/`vidpipe local`/);
  });

  it('vidpipe local + upload --local --wait: COMPLETE jobs, outputs on disk and over HTTP, the read API has them', async () => {
    const tmp = tempDir('vidpipe-local-cli-');
    cleanups.push(tmp.cleanup);
    const local = startLocal(tmp.dir);
    cleanups.push(() => void local.child.kill('SIGKILL'));
    const rt = await local.ready;
    const clip = makeClip(tmp.dir, { seconds: 1 });
    const r = await runCli(['--json', 'upload', clip, '--post', '1', '--local', '--wait', '--template', 'hls'], { cwd: tmp.dir, timeoutMs: 60_000 });
    expect(r.stderr).toMatch(/started job \d{13}-[a-z0-9]{6}/);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { uploads: { jobs: { id: string; status: string; outputs: string[] }[] }[] };
    const job = doc.uploads[0]!.jobs[0]!;
    expect(job.status).toBe('COMPLETE');
    const master = job.outputs.find((o) => /\/hls\/clip-160x90-1s\.m3u8$/.test(o))!;
    expect(master).toBeDefined();
    // The multivariant playlist is served over HTTP (for a browser) and plays in ffprobe from there.
    const url = `${rt.mediaconvertEndpoint}/files/${master.slice('s3://'.length)}`;
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    const probed = execFileSync(locateFfmpeg()!.ffprobe, ['-v', 'error', '-show_entries', 'stream=width', '-of', 'csv=p=0', url], { encoding: 'utf8' });
    // ffprobe lists each stream under its program too: count distinct widths.
    expect([...new Set(probed.split('\n').filter(Boolean).map(Number))].sort((a, b) => a - b)).toEqual([640, 960, 1280, 1920]);
    const key = JSON.parse(readFileSync(path.join(tmp.dir, '.vidpipe', 'secrets.json'), 'utf8')).apiKeys[0];
    const video = (await (await fetch(`${rt.listenerUrl}/api/videos/${job.id}`, { headers: { 'x-api-key': key } })).json()) as any;
    expect(video.video).toMatchObject({ status: 'COMPLETE', width: 1920, height: 1080 });
    expect(video.video.durationMs).toBeGreaterThan(900);
    local.child.kill('SIGTERM');
    const exit = await local.exited;
    expect(exit.code).toBe(0);
    expect(local.stderr()).toMatch(/stopped/);
    expect(existsSync(path.join(tmp.dir, '.vidpipe', 'local', 'runtime.json'))).toBe(false);
  });

  it('killed mid-transcode (SIGKILL): nothing listed complete; the next start kills the orphaned ffmpeg and reports the job failed', async () => {
    const tmp = tempDir('vidpipe-local-cli-');
    cleanups.push(tmp.cleanup);
    const local = startLocal(tmp.dir);
    cleanups.push(() => void local.child.kill('SIGKILL'));
    const rt = await local.ready;
    const { jobId, pid } = await transcodeLongClip(tmp.dir, local, '9');
        local.child.kill('SIGKILL');
    await local.exited;
    cleanups.push(() => {
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    });
    const outputs = path.join(rt.storage.location, rt.outputBucket, 'posts', '9');
    expect(existsSync(outputs)).toBe(false);

    const again = startLocal(tmp.dir);
    cleanups.push(() => void again.child.kill('SIGKILL'));
    const rt2 = await again.ready;
    expect(again.stderr()).toMatch(new RegExp(`job ${jobId}: was transcoding when vidpipe local last stopped; reported ERROR \\(not resumed\\)`));
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive(pid)).toBe(false);
    expect(existsSync(outputs)).toBe(false);
    expect(readdirSync(path.join(tmp.dir, '.vidpipe', 'local', 'work')).includes(jobId)).toBe(false);
    const key = JSON.parse(readFileSync(path.join(tmp.dir, '.vidpipe', 'secrets.json'), 'utf8')).apiKeys[0];
    let video: any;
    for (let i = 0; i < 50; i++) {
      video = (await (await fetch(`${rt2.listenerUrl}/api/videos/${jobId}`, { headers: { 'x-api-key': key } })).json()) as any;
      if (video.video?.status === 'ERROR') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(video.video).toMatchObject({ status: 'ERROR', errorCode: '1999' });
    expect(video.video.errorMessage).toMatch(/not resumed/);
    again.child.kill('SIGTERM');
    expect((await again.exited).code).toBe(0);
  });

  it('SIGTERM mid-transcode: kills ffmpeg, exits 0, removes runtime.json', async () => {
    const tmp = tempDir('vidpipe-local-cli-');
    cleanups.push(tmp.cleanup);
    const local = startLocal(tmp.dir);
    cleanups.push(() => void local.child.kill('SIGKILL'));
    await local.ready;
    const { jobId, pid } = await transcodeLongClip(tmp.dir, local, '3');
    expect(alive(pid)).toBe(true);
    local.child.kill('SIGTERM');
    expect((await local.exited).code).toBe(0);
    expect(local.stderr()).toMatch(/killing ffmpeg for 1 running job/);
    expect(alive(pid)).toBe(false);
    expect(existsSync(path.join(tmp.dir, '.vidpipe', 'local', 'runtime.json'))).toBe(false);
  });
});

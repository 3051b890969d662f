/**
 * vidpipe local in-process: the Lambda handler starting jobs on the local MediaConvert API, real ffmpeg transcodes of
 * vidpipe's templates, and the events the listener receives over HTTP (validated against the listener's schema).
 * Clips are a second or two at 160x90, transcoded with -preset ultrafast.
 */
import { Writable } from 'node:stream';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelJobCommand, CreateJobCommand, GetJobCommand, GetJobTemplateCommand, ListJobsCommand, MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { compileListenerBodyValidator } from '../../src/events/schema.js';
import type { JobStateChangeEvent } from '../../src/events/types.js';
import { toWire } from '../../src/local/api.js';
import { locateFfmpeg } from '../../src/local/ffmpeg.js';
import { startLocal, type LocalService } from '../../src/local/service.js';
import { runLocalUpload } from '../../src/local/upload.js';
import { Output } from '../../src/output/output.js';
import { buildJobRequest } from '../../src/upload/job-request.js';
import { jobTemplates, type JobTemplateName } from '../../templates/job-templates.js';
import { ffmpegAvailable, makeClip } from '../helpers/ffmpeg.js';
import { tempDir } from '../helpers/listener.js';

const quiet = () => new Output({ stdout: new Writable({ write: (_c, _e, cb) => cb() }), stderr: new Writable({ write: (_c, _e, cb) => cb() }) });

describe.runIf(ffmpegAvailable())('vidpipe local: runner, MediaConvert API, events', () => {
  const tmp = tempDir('vidpipe-local-');
  const configPath = path.join(tmp.dir, 'vidpipe.config.json');
  const ffmpeg = locateFfmpeg()!;
  const received: { event: JobStateChangeEvent; answer: { status: number; body: string } | undefined }[] = [];
  let service: LocalService;
  let mc: MediaConvertClient;
  let validate: Awaited<ReturnType<typeof compileListenerBodyValidator>>;

  beforeAll(async () => {
    validate = await compileListenerBodyValidator();
    const env = { ...process.env };
    for (const k of ['VIDPIPE_API_KEY', 'VIDPIPE_BASIC_AUTH', 'SLACK_WEBHOOK_URL']) delete env[k];
    service = await startLocal({
      configPath,
      ffmpeg,
      port: 0,
      host: '127.0.0.1',
      mediaconvertPort: 0,
      concurrency: 2,
      preset: 'ultrafast',
      statusIntervalMs: 250,
      env,
      listenerLogLevel: 'silent',
      log: () => undefined,
      onEvent: (event, answer) => received.push({ event, answer }),
    });
    mc = new MediaConvertClient({ endpoint: service.runtime.mediaconvertEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });

  afterAll(async () => {
    mc?.destroy();
    await service?.close();
    tmp.cleanup();
  });

  const eventsOf = (jobId: string) => received.filter((r) => r.event.detail.jobId === jobId).map((r) => r.event);

  async function finished(jobId: string) {
    for (;;) {
      const job = (await mc.send(new GetJobCommand({ Id: jobId }))).Job!;
      if (job.Status === 'COMPLETE' || job.Status === 'ERROR' || job.Status === 'CANCELED') {
        await service.events.flush();
        return job;
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  /** Puts a file in the input bucket and creates its job with the request the Lambda builds. */
  async function startJob(file: string, key: string, template: JobTemplateName = 'mp4', token?: string) {
    const stored = await service.storage.putFile(service.runtime.inputBucket, key, file, { metadata: { 'post-id': '7' } });
    const request = buildJobRequest({
      app: service.runtime.app,
      template,
      roleArn: 'arn:aws:iam::000000000000:role/local',
      outputBucket: service.runtime.outputBucket,
      input: { bucket: service.runtime.inputBucket, key, etag: token ?? stored.etag },
      postId: '7',
    });
    return (await mc.send(new CreateJobCommand(request))).Job!;
  }

  const outputPath = (uri: string) => {
    const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri)!;
    return service.storage.pathOf!(m[1]!, m[2]!);
  };

  const readApi = async (jobId: string) => {
    const res = await fetch(`${service.listener.url}/api/videos/${jobId}`, { headers: service.listener.clientHeaders });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('upload --local: the Lambda handler starts mp4, hls and thumbnails jobs; each ends COMPLETE with real, playable outputs and valid events', async () => {
    const clip = makeClip(tmp.dir, { seconds: 2 });
    const [report] = await runLocalUpload({ files: [clip], postId: '1', wait: false }, { out: quiet(), configPath });
    expect(report!.jobs.map((j) => j.template)).toEqual(['mp4', 'hls', 'thumbnails']);
    const jobs = await Promise.all(report!.jobs.map((j) => finished(j.id)));
    expect(jobs.map((j) => j.Status)).toEqual(['COMPLETE', 'COMPLETE', 'COMPLETE']);

    for (const j of report!.jobs) {
      const events = eventsOf(j.id);
      // Every event is valid for the listener's ingest schema and was processed by it.
      for (const e of events) expect(validate(e), JSON.stringify(validate.errors)).toBe(true);
      expect(received.filter((r) => r.event.detail.jobId === j.id).every((r) => r.answer?.status === 200 && /"processed"/.test(r.answer.body))).toBe(true);
      const statuses = events.map((e) => e.detail.status);
      expect(statuses[0]).toBe('PROGRESSING');
      expect(statuses).toContain('INPUT_INFORMATION');
      expect(statuses.at(-1)).toBe('COMPLETE');
      const updates = events.filter((e) => e.detail.status === 'STATUS_UPDATE');
      expect(updates.length).toBeGreaterThan(0);
      expect(updates.at(-1)!.detail.framesDecoded).toBe(50); // 2 s at 25 fps
      expect(events.every((e) => e.detail.userMetadata?.postId === '1' && e.source === 'aws.mediaconvert')).toBe(true);
      const info = events.find((e) => e.detail.status === 'INPUT_INFORMATION')!.detail.inputDetails![0]!;
      expect(info.video![0]).toMatchObject({ width: 160, height: 90, codec: 'H_264', frameRate: 25 });
    }

    const [mp4Job, hlsJob, thumbJob] = report!.jobs.map((j) => eventsOf(j.id).at(-1)!.detail);
    const mp4 = mp4Job!.outputGroupDetails![0]!;
    expect(mp4.type).toBe('FILE_GROUP');
    expect(mp4.outputDetails![0]!.outputFilePaths).toEqual([`s3://${service.runtime.outputBucket}/posts/1/clip-160x90-2s/mp4/clip-160x90-2s.mp4`]);
    expect(mp4.outputDetails![0]!.videoDetails).toEqual({ widthInPx: 1280, heightInPx: 720 });
    expect(Math.abs(mp4.outputDetails![0]!.durationInMs! - 2000)).toBeLessThan(150);

    const hls = hlsJob!.outputGroupDetails![0]!;
    expect(hls.type).toBe('HLS_GROUP');
    const master = hls.playlistFilePaths![0]!;
    expect(master).toMatch(/\/hls\/clip-160x90-2s\.m3u8$/);
    expect(hls.outputDetails!.map((o) => o.videoDetails)).toEqual([
      { widthInPx: 640, heightInPx: 360 },
      { widthInPx: 960, heightInPx: 540 },
      { widthInPx: 1280, heightInPx: 720 },
      { widthInPx: 1920, heightInPx: 1080 },
    ]);
    // ffprobe plays the multivariant playlist: one video stream per rendition, with audio.
    const probed = execFileSync(ffmpeg.ffprobe, ['-v', 'error', '-show_entries', 'stream=codec_type,width,height', '-of', 'json', outputPath(master)], { encoding: 'utf8' });
    const streams = (JSON.parse(probed) as { streams: { codec_type: string; width?: number }[] }).streams;
    expect(streams.filter((s) => s.codec_type === 'video').map((s) => s.width).sort((a, b) => a! - b!)).toEqual([640, 960, 1280, 1920]);
    expect(streams.some((s) => s.codec_type === 'audio')).toBe(true);
    expect(readFileSync(outputPath(master), 'utf8')).toMatch(/#EXT-X-STREAM-INF:BANDWIDTH=\d+,AVERAGE-BANDWIDTH=\d+,CODECS="avc1\.4d40[0-9a-f]{2},mp4a\.40\.2",RESOLUTION=640x360/);

    // Thumbnails: one capture every 5 s from 0 s, numbered from .0000000, the last one reported.
    const thumbs = thumbJob!.outputGroupDetails!.find((g) => /\.jpg$/.test(g.outputDetails![0]!.outputFilePaths![0]!))!;
    expect(thumbs.outputDetails![0]!.outputFilePaths![0]).toMatch(/\/thumbnails\/clip-160x90-2s\.0000000\.jpg$/);
    expect(existsSync(outputPath(thumbs.outputDetails![0]!.outputFilePaths![0]!))).toBe(true);

    // The listener's read API has the job COMPLETE with the real figures.
    const api = await readApi(report!.jobs[1]!.id);
    expect(api.status).toBe(200);
    expect(api.body.video).toMatchObject({ status: 'COMPLETE', width: 1920, height: 1080 });
    expect(Math.abs(api.body.video.durationMs - 2000)).toBeLessThan(150);
  });

  it('serves the REST subset: GetJob, ListJobs, GetJobTemplate, idempotent CreateJob, 400 for what it cannot run', async () => {
    const clip = makeClip(tmp.dir, { seconds: 1, name: 'api.mp4' });
    const job = await startJob(clip, 'posts/7/api.mp4', 'mp4', 'etag-api');
    const again = await startJob(clip, 'posts/7/api.mp4', 'mp4', 'etag-api');
    expect(again.Id).toBe(job.Id);
    const done = await finished(job.Id!);
    expect(done.Status).toBe('COMPLETE');
    expect(done.OutputGroupDetails?.[0]?.OutputDetails?.[0]?.VideoDetails).toEqual({ WidthInPx: 1280, HeightInPx: 720 });
    expect(done.Timing?.FinishTime).toBeInstanceOf(Date);
    const list = await mc.send(new ListJobsCommand({ Status: 'COMPLETE', MaxResults: 20 }));
    expect(list.Jobs!.some((j) => j.Id === job.Id)).toBe(true);
    const template = await mc.send(new GetJobTemplateCommand({ Name: `${service.runtime.app}-hls` }));
    expect(template.JobTemplate?.Settings?.OutputGroups?.[0]?.Outputs).toHaveLength(4);
    expect(template.JobTemplate?.Settings?.Inputs?.[0]?.AudioSelectors?.['Audio Selector 1']).toBeDefined();
    await expect(mc.send(new GetJobTemplateCommand({ Name: 'nope' }))).rejects.toMatchObject({ name: 'NotFoundException' });
    await expect(mc.send(new GetJobCommand({ Id: '1-nosuch' }))).rejects.toMatchObject({ name: 'NotFoundException' });
    const request = buildJobRequest({ app: 'x', template: 'mp4', roleArn: 'arn:aws:iam::0:role/r', outputBucket: 'o', input: { bucket: 'i', key: 'k.mp4', etag: 'e' } });
    request.Settings!.OutputGroups![0]!.OutputGroupSettings = { Type: 'DASH_ISO_GROUP_SETTINGS', DashIsoGroupSettings: { Destination: 's3://o/x/', SegmentLength: 6, FragmentLength: 2 } };
    await expect(mc.send(new CreateJobCommand(request))).rejects.toMatchObject({ name: 'BadRequestException', message: expect.stringMatching(/DASH_ISO_GROUP_SETTINGS/) });
  });

  it('CancelJob stops ffmpeg: CANCELED, nothing stored', async () => {
    const clip = makeClip(tmp.dir, { seconds: 30, width: 320, height: 180, name: 'long.mp4' });
    const job = await startJob(clip, 'posts/7/long.mp4', 'hls');
    for (let i = 0; i < 200 && !eventsOf(job.Id!).some((e) => e.detail.status === 'STATUS_UPDATE'); i++) await new Promise((r) => setTimeout(r, 100));
    await mc.send(new CancelJobCommand({ Id: job.Id! }));
    const done = await finished(job.Id!);
    expect(done.Status).toBe('CANCELED');
    expect(eventsOf(job.Id!).at(-1)!.detail.status).toBe('CANCELED');
    expect(existsSync(path.join(service.storage.location, service.runtime.outputBucket, 'posts/7/long'))).toBe(false);
    expect(existsSync(path.join(service.stateDir, 'work', job.Id!))).toBe(false);
    await expect(mc.send(new CancelJobCommand({ Id: job.Id! }))).rejects.toMatchObject({ name: 'BadRequestException' });
  });

  it('serves stored objects over HTTP, and nothing outside the storage', async () => {
    const clip = makeClip(tmp.dir, { seconds: 0.5, name: 'served.mp4' });
    await service.storage.putFile(service.runtime.inputBucket, 'posts/8/served.mp4', clip);
    const base = service.runtime.mediaconvertEndpoint;
    const ok = await fetch(`${base}/files/${service.runtime.inputBucket}/posts/8/served.mp4`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await ok.arrayBuffer()).equals(readFileSync(clip))).toBe(true);
    for (const bad of ['/files/%2e%2e/jobs.json', '/files/.meta/x', `/files/${service.runtime.inputBucket}/..%2F..%2Fjobs.json`, '/files/a%2F..%2F..%2Fjobs.json/x', '/files/a%2F..%2F..%2F/runtime.json'])
      expect((await fetch(`${base}${bad}`)).status, bad).toBeGreaterThanOrEqual(400);
  });

  const faults: { name: string; make: () => string; template: JobTemplateName; expect: 'COMPLETE' | 'ERROR'; message?: RegExp }[] = [
    {
      name: 'a file that is not a video',
      make: () => {
        const f = path.join(tmp.dir, 'notes.mp4');
        writeFileSync(f, 'this is a text file, not a video\n'.repeat(50));
        return f;
      },
      template: 'mp4',
      expect: 'ERROR',
      message: /Unable to open input file \[s3:\/\/.+\/notes\.mp4\]: \[Failed probe\/open: \[No parser found for container\]\]/,
    },
    {
      name: 'a zero-length file',
      make: () => {
        const f = path.join(tmp.dir, 'empty.mp4');
        writeFileSync(f, '');
        return f;
      },
      template: 'mp4',
      expect: 'ERROR',
      message: /empty \(0 bytes\)/,
    },
    {
      name: 'a truncated MP4 (right magic bytes, undecodable)',
      make: () => {
        const whole = readFileSync(makeClip(tmp.dir, { seconds: 1, name: 'whole.mp4' }));
        const f = path.join(tmp.dir, 'truncated.mp4');
        writeFileSync(f, whole.subarray(0, Math.floor(whole.length / 3)));
        return f;
      },
      template: 'mp4',
      expect: 'ERROR',
      message: /Unable to open input file \[s3:\/\/.+\/truncated\.mp4\]/,
    },
    { name: 'a video without audio', make: () => makeClip(tmp.dir, { seconds: 1, audio: false }), template: 'mp4', expect: 'COMPLETE' },
    { name: 'an odd resolution (321x241)', make: () => makeClip(tmp.dir, { seconds: 1, width: 321, height: 241 }), template: 'thumbnails', expect: 'COMPLETE' },
    { name: 'a very short clip (0.2 s)', make: () => makeClip(tmp.dir, { seconds: 0.2 }), template: 'thumbnails', expect: 'COMPLETE' },
  ];

  it.each(faults)('$name ends $expect, never half-written', async (f) => {
    const file = f.make();
    const key = `posts/7/${path.basename(file)}`;
    const job = await startJob(file, key, f.template);
    const done = await finished(job.Id!);
    expect(done.Status).toBe(f.expect);
    const last = eventsOf(job.Id!).at(-1)!;
    expect(validate(last)).toBe(true);
    expect(last.detail.status).toBe(f.expect);
    const outputs = path.join(service.storage.location, service.runtime.outputBucket, key.replace(/\.mp4$/, ''));
    if (f.expect === 'ERROR') {
      expect(last.detail.errorCode).toBe(1010);
      expect(last.detail.errorMessage).toMatch(f.message!);
      expect(done.ErrorMessage).toBe(last.detail.errorMessage);
      expect(existsSync(outputs)).toBe(false);
      const api = await readApi(job.Id!);
      expect(api.body.video).toMatchObject({ status: 'ERROR', errorCode: '1010' });
      return;
    }
    // Every output listed in COMPLETE exists and is playable.
    for (const group of last.detail.outputGroupDetails!)
      for (const od of group.outputDetails!) {
        const file = outputPath(od.outputFilePaths![0]!);
        expect(existsSync(file)).toBe(true);
        expect(od.durationInMs).toBeGreaterThan(0);
      }
    if (f.name.includes('without audio')) {
      const mp4 = outputPath(last.detail.outputGroupDetails![0]!.outputDetails![0]!.outputFilePaths![0]!);
      const probed = execFileSync(ffmpeg.ffprobe, ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', mp4], { encoding: 'utf8' });
      // The template's AAC track is there, silent.
      expect(probed.trim().split('\n').sort()).toEqual(['audio', 'video']);
    }
    if (f.name.includes('short')) {
      const thumb = last.detail.outputGroupDetails![1]!.outputDetails![0]!.outputFilePaths![0]!;
      expect(thumb).toMatch(/\.0000000\.jpg$/);
    }
  });
});

describe.runIf(ffmpegAvailable())('vidpipe local: restart after a crash while storing', () => {
  it('deletes what the interrupted job had begun to store (not what a COMPLETE job lists), reports it ERROR, resumes queued jobs', async () => {
    const tmp = tempDir('vidpipe-local-recover-');
    const configPath = path.join(tmp.dir, 'vidpipe.config.json');
    const stateDir = path.join(tmp.dir, '.vidpipe', 'local');
    const storage = path.join(stateDir, 'storage');
    const out = (key: string) => path.join(storage, 'vidpipe-local-output', key);
    mkdirSync(path.dirname(out('posts/1/a/hls/a_360_00001.ts')), { recursive: true });
    mkdirSync(path.dirname(out('posts/1/a/mp4/a.mp4')), { recursive: true });
    writeFileSync(out('posts/1/a/hls/a_360_00001.ts'), 'partial');
    writeFileSync(out('posts/1/a/mp4/a.mp4'), 'complete');
    const base = { role: 'r', queue: 'q', priority: 0, userMetadata: { postId: '1' }, statusUpdateInterval: 'SECONDS_10', createdAt: 1, timing: { submitTime: 1 } };
    const settings = { inputs: [{ fileInput: 's3://vidpipe-local-input/posts/1/a.mp4' }], outputGroups: [] };
    writeFileSync(
      path.join(stateDir, 'jobs.json'),
      JSON.stringify({
        version: 1,
        jobs: [
          { ...base, id: '1700000000000-aaaaaa', arn: 'a', status: 'COMPLETE', settings, local: { outputs: ['s3://vidpipe-local-output/posts/1/a/mp4/a.mp4'] } },
          {
            ...base,
            id: '1700000000001-bbbbbb',
            arn: 'b',
            status: 'PROGRESSING',
            currentPhase: 'UPLOADING',
            settings,
            local: { workDir: path.join(stateDir, 'work', '1700000000001-bbbbbb'), storing: ['s3://vidpipe-local-output/posts/1/a/hls/a_360_00001.ts', 's3://vidpipe-local-output/posts/1/a/mp4/a.mp4'] },
          },
          // Queued, its input missing: resumed, then ERROR 1010 (NoSuchKey).
          { ...base, id: '1700000000002-cccccc', arn: 'c', status: 'SUBMITTED', settings: { ...settings, outputGroups: jobTemplateOutputGroups() } },
        ],
      }),
    );
    const received: JobStateChangeEvent[] = [];
    const env = { ...process.env };
    for (const k of ['VIDPIPE_API_KEY', 'VIDPIPE_BASIC_AUTH', 'SLACK_WEBHOOK_URL']) delete env[k];
    const service = await startLocal({
      configPath,
      ffmpeg: locateFfmpeg()!,
      port: 0,
      host: '127.0.0.1',
      mediaconvertPort: 0,
      concurrency: 1,
      statusIntervalMs: 1000,
      env,
      listenerLogLevel: 'silent',
      log: () => undefined,
      onEvent: (e) => received.push(e),
    });
    try {
      expect(service.recovered).toEqual({ failed: ['1700000000001-bbbbbb'], resumed: ['1700000000002-cccccc'] });
      expect(existsSync(out('posts/1/a/hls/a_360_00001.ts'))).toBe(false);
      expect(readFileSync(out('posts/1/a/mp4/a.mp4'), 'utf8')).toBe('complete');
      await service.runner.whenIdle();
      await service.events.flush();
      const failed = received.filter((e) => e.detail.jobId === '1700000000001-bbbbbb');
      expect(failed.map((e) => e.detail.status)).toEqual(['ERROR']);
      expect(failed[0]!.detail.errorMessage).toMatch(/was UPLOADING; it was not resumed, and the 1 file\(s\) it had begun to store were deleted/);
      expect(service.jobs.get('1700000000002-cccccc')).toMatchObject({ status: 'ERROR', errorCode: 1010 });
    } finally {
      await service.close();
      tmp.cleanup();
    }
  });
});

/** The mp4 template's output groups in wire format, for a hand-written job. */
function jobTemplateOutputGroups() {
  return (toWire(jobTemplates('vidpipe-local-output', 'posts/1/a').mp4.settings) as { outputGroups: unknown[] }).outputGroups;
}

/**
 * vidpipe local with an S3 endpoint (moto) as its storage: upload --local puts the input there, the Lambda handler
 * reads the post id with a real HeadObject, and the outputs are stored there before COMPLETE.
 */
import { writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { defaultConfig } from '../../src/config/config.js';
import { locateFfmpeg } from '../../src/local/ffmpeg.js';
import { startLocal, type LocalService } from '../../src/local/service.js';
import { runLocalUpload } from '../../src/local/upload.js';
import { Output } from '../../src/output/output.js';
import { ffmpegAvailable, makeClip } from '../helpers/ffmpeg.js';
import { tempDir } from '../helpers/listener.js';
import { motoAvailable, startMoto, type Moto } from '../helpers/moto.js';
import { builtCliAvailable, runCli } from '../helpers/cli.js';

const sink = () => new Writable({ write: (_c, _e, cb) => cb() });

describe.runIf(ffmpegAvailable() && motoAvailable())('vidpipe local with S3 storage (moto)', () => {
  const tmp = tempDir('vidpipe-local-s3-');
  const configPath = path.join(tmp.dir, 'vidpipe.config.json');
  let moto: Moto;
  let service: LocalService;
  let s3: S3Client;

  beforeAll(async () => {
    moto = await startMoto();
    // trigger "none": `upload --start-job` creates the job itself (the second test).
    writeFileSync(configPath, JSON.stringify({ ...defaultConfig('vidpipe-local'), region: 'us-east-1', trigger: 'none' }));
    const env = { ...process.env, ...moto.env };
    for (const k of ['VIDPIPE_API_KEY', 'VIDPIPE_BASIC_AUTH', 'SLACK_WEBHOOK_URL']) delete env[k];
    service = await startLocal({
      configPath,
      ffmpeg: locateFfmpeg()!,
      port: 0,
      host: '127.0.0.1',
      mediaconvertPort: 0,
      storage: moto.endpoint,
      concurrency: 1,
      preset: 'ultrafast',
      statusIntervalMs: 500,
      env,
      listenerLogLevel: 'silent',
      log: () => undefined,
    });
    s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });

  afterAll(async () => {
    s3?.destroy();
    await service?.close();
    await moto?.stop();
    tmp.cleanup();
  });

  it('stores the input with its post id and the outputs in the S3 buckets; the job is COMPLETE', async () => {
    const clip = makeClip(tmp.dir, { seconds: 1 });
    const out = new Output({ stdout: sink(), stderr: sink() });
    const [report] = await runLocalUpload({ files: [clip], postId: '5', template: 'mp4', wait: true }, { out, configPath, env: { ...process.env, ...moto.env } });
    expect(report!.jobs[0]).toMatchObject({ status: 'COMPLETE' });
    const head = await s3.send(new HeadObjectCommand({ Bucket: service.runtime.inputBucket, Key: 'posts/5/clip-160x90-1s.mp4' }));
    expect(head.Metadata?.['post-id']).toBe('5');
    const mp4 = await s3.send(new GetObjectCommand({ Bucket: service.runtime.outputBucket, Key: 'posts/5/clip-160x90-1s/mp4/clip-160x90-1s.mp4' }));
    expect(mp4.ContentType).toBe('video/mp4');
    expect((await mp4.Body!.transformToByteArray()).length).toBeGreaterThan(1000);
    const job = service.jobs.get(report!.jobs[0]!.id)!;
    expect(job.userMetadata).toMatchObject({ postId: '5', inputKey: 'posts/5/clip-160x90-1s.mp4' });
  });

  it.runIf(builtCliAvailable())('upload --start-job --wait runs unchanged against it through AWS_ENDPOINT_URL_MEDIACONVERT', async () => {
    const clip = makeClip(tmp.dir, { seconds: 1, name: 'direct.mp4' });
    const port = new URL(service.listener.url).port;
    const r = await runCli(['--json', 'upload', clip, '--post', '6', '--start-job', '--wait', '--template', 'thumbnails'], {
      cwd: tmp.dir,
      env: { ...moto.env, AWS_ENDPOINT_URL_MEDIACONVERT: service.runtime.mediaconvertEndpoint, PORT: port },
      timeoutMs: 60_000,
    });
    expect(r.stderr).toMatch(/started MediaConvert job \d{13}-[a-z0-9]{6} \(template vidpipe-local-thumbnails\)/);
    expect(r.code).toBe(0);
    const job = (JSON.parse(r.stdout) as { uploads: { job: { status: string; source: string; outputs: string[] } }[] }).uploads[0]!.job;
    expect(job).toMatchObject({ status: 'COMPLETE', source: 'listener' });
    expect(job.outputs).toContain(`s3://${service.runtime.outputBucket}/posts/6/direct/thumbnails/direct.0000000.jpg`);
    await s3.send(new HeadObjectCommand({ Bucket: service.runtime.outputBucket, Key: 'posts/6/direct/thumbnails/direct.0000000.jpg' }));
  });
});

/**
 * `vidpipe upload --start-job --wait`, the built CLI as a child process: S3 and STS on moto, MediaConvert on the
 * HTTP fake (test/helpers/mediaconvert-fake.ts). The test moves the fake job through its states.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateJobTemplateCommand, MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { createHandler } from '../../src/lambda/handler.js';
import { jobTemplates } from '../../templates/job-templates.js';
import { startMediaConvertFake, type MediaConvertFake } from '../helpers/mediaconvert-fake.js';
import { freePort, motoAvailable, startMoto, type Moto } from '../helpers/moto.js';
import { writeSecrets, secretsPathFor } from '../../src/config/secrets.js';
import { startListener } from '../../src/listener/server.js';
import { DEFAULT_SIMULATOR_SOURCE } from '../../src/config/config.js';
import { MEDIACONVERT_SOURCE } from '../../src/events/types.js';
import { writeFakeMp4 } from '../helpers/video-files.js';

const BIN = path.resolve('bin/vidpipe.js');

interface Running {
  child: ChildProcess;
  stderr(): string;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function startCli(args: string[], cwd: string, env: Record<string, string>): Running {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, stderr: () => stderr, done };
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.runIf(motoAvailable())('vidpipe upload --start-job --wait (moto + MediaConvert fake)', () => {
  let moto: Moto;
  let mc: MediaConvertFake;
  let s3: S3Client;
  let dir: string;
  let env: Record<string, string>;
  /** No listener answers here: --wait falls back to GetJob at once. */
  let noListener: string;

  beforeAll(async () => {
    [moto, mc] = await Promise.all([startMoto(), startMediaConvertFake()]);
    noListener = `http://127.0.0.1:${await freePort()}`;
    env = { ...moto.env, ...mc.env };
    s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'demo-input' }));
    dir = mkdtempSync(path.join(tmpdir(), 'vidpipe-startjob-'));
    writeFileSync(path.join(dir, 'vidpipe.config.json'), JSON.stringify({ ...defaultConfig('demo'), region: 'us-east-1', trigger: 'none' }));
    await writeFakeMp4(path.join(dir, 'clip one.mp4'), 6 * 1024 * 1024);
  });
  beforeEach(async () => {
    mc.reset();
    // What `vidpipe setup` installs.
    const client = new MediaConvertClient({ endpoint: mc.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const t = jobTemplates('demo-output');
    for (const name of ['mp4', 'hls'] as const) await client.send(new CreateJobTemplateCommand({ Name: `demo-${name}`, Settings: t[name].settings }));
    client.destroy();
  });
  afterAll(async () => {
    s3?.destroy();
    await Promise.all([moto?.stop(), mc?.close()]);
  });

  it('starts the job with the shared builder, follows it through GetJob and prints the outputs', async () => {
    const run = startCli(['upload', 'clip one.mp4', '--post', '7', '--start-job', '--wait', '--json', '--listener-url', noListener], dir, env);
    const created = await until('CreateJob', () => mc.requestsOf('CreateJob')[0]);
    const job = mc.jobs()[0]!;
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'demo-input', Key: 'posts/7/clip one.mp4' }));
    // The request on the wire (lowerCamelCase), field by field.
    const body = created.body as Record<string, any>;
    expect(body.jobTemplate).toBe('demo-mp4');
    expect(body.role).toBe('arn:aws:iam::123456789012:role/demo-mediaconvert-job');
    expect(body.settings.inputs[0].fileInput).toBe('s3://demo-input/posts/7/clip one.mp4');
    expect(body.settings.outputGroups[0].outputGroupSettings.fileGroupSettings.destination).toBe('s3://demo-output/posts/7/clip one/mp4/');
    expect(body.userMetadata).toEqual({ postId: '7', inputKey: 'posts/7/clip one.mp4', app: 'demo' });
    expect(body.statusUpdateInterval).toBe('SECONDS_10');
    expect(body.clientRequestToken).toMatch(/^[0-9a-f]{64}$/);
    expect(head.Metadata).toEqual({ 'post-id': '7' });

    mc.setJobStatus(String(job.id), 'PROGRESSING', { currentPhase: 'TRANSCODING', jobPercentComplete: 40 });
    await until('the progress line', () => run.stderr().includes(`job ${job.id}: PROGRESSING TRANSCODING 40%`));
    mc.setJobStatus(String(job.id), 'COMPLETE', { jobPercentComplete: 100 });
    const result = await run.done;
    expect(result.stderr).toContain(`started MediaConvert job ${job.id} (template demo-mp4)`);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout) as { uploads: { job: Record<string, unknown> }[] };
    expect(doc.uploads[0]!.job).toEqual({
      id: job.id,
      template: 'mp4',
      status: 'COMPLETE',
      percent: 100,
      outputs: ['s3://demo-output/posts/7/clip one/mp4/clip one.mp4'],
      source: 'mediaconvert',
    });

    // The Lambda, given the S3 record for the same object, sends the same ClientRequestToken: one job, not two.
    const mediaconvert = new MediaConvertClient({ endpoint: mc.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const handler = createHandler({ config: { app: 'demo', template: 'mp4', roleArn: body.role, outputBucket: 'demo-output', region: 'us-east-1' }, s3, mediaconvert, log: () => undefined });
    const fromLambda = await handler({ Records: [{ eventName: 'ObjectCreated:CompleteMultipartUpload', s3: { bucket: { name: 'demo-input' }, object: { key: 'posts/7/clip+one.mp4', eTag: head.ETag!.replace(/"/g, '') } } }] });
    expect(fromLambda.jobs[0]!.jobId).toBe(job.id);
    expect(mc.jobs()).toHaveLength(1);
    mediaconvert.destroy();
  });

  it('--wait reads the listener, fed by simulate-complete, while MediaConvert still says SUBMITTED', async () => {
    const key = 'vp_test_key_for_the_listener_0123456789';
    writeSecrets(secretsPathFor(path.join(dir, 'vidpipe.config.json')), { apiKeys: [key] });
    const listener = await startListener({
      port: 0,
      host: '127.0.0.1',
      database: path.join(dir, 'vidpipe.db'),
      auth: { header: 'x-api-key', apiKeys: [key], insecure: false },
      processedSources: [MEDIACONVERT_SOURCE, DEFAULT_SIMULATOR_SOURCE],
      logLevel: 'silent',
    });
    try {
      const run = startCli(['upload', 'clip one.mp4', '--key', 'posts/8/talk.mp4', '--post', '8', '--start-job', '--wait', '--json', '--listener-url', listener.url], dir, env);
      const job = await until('the job', () => mc.jobs()[0]);
      // The job is unknown to the listener until an event arrives: --wait asks GetJob meanwhile.
      // Each line says the state and the time waited so far.
      await until('the first state', () => new RegExp(`job ${job.id}: SUBMITTED · \\d+s \\(via mediaconvert\\)`).test(run.stderr()));
      const simulated = await new Promise<number | null>((resolve) => {
        const child = spawn(
          process.execPath,
          [BIN, 'simulate-complete', '--to', `${listener.url}/aws/listener/eventbridge/video`, '--job-id', String(job.id), '--post', '8', '--output', 's3://demo-output/posts/8/talk/mp4/talk.mp4'],
          { cwd: dir, env: { ...process.env, ...env }, stdio: 'ignore' },
        );
        child.on('close', resolve);
      });
      expect(simulated).toBe(0);
      const result = await run.done;
      expect(result.code).toBe(0);
      const doc = JSON.parse(result.stdout) as { uploads: { job: Record<string, unknown> }[] };
      expect(doc.uploads[0]!.job).toMatchObject({ id: job.id, status: 'COMPLETE', source: 'listener', outputs: ['s3://demo-output/posts/8/talk/mp4/talk.mp4'] });
      expect(mc.job(String(job.id))!.status).toBe('SUBMITTED');
    } finally {
      await listener.close();
    }
  });

  it('a job that ends in ERROR: its code and message, exit 5', async () => {
    const run = startCli(['upload', 'clip one.mp4', '--key', 'bad.mp4', '--template', 'hls', '--start-job', '--wait', '--listener-url', noListener], dir, env);
    const job = await until('the job', () => mc.jobs()[0]);
    expect(job.jobTemplate).toBe('demo-hls');
    mc.setJobStatus(String(job.id), 'ERROR', { errorCode: 1010, errorMessage: 'Unsupported codec' });
    const result = await run.done;
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(`MediaConvert job ${job.id} for bad.mp4 ended ERROR with error 1010: Unsupported codec.`);
  });

  it('a template that is not installed: exit 4 and run setup', async () => {
    mc.reset();
    const result = await startCli(['upload', 'clip one.mp4', '--key', 'x.mp4', '--start-job'], dir, env).done;
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('MediaConvert has no job template demo-mp4');
    expect(result.stderr).toContain('vidpipe setup');
  });

  it('--wait without --start-job is a usage error, before anything is uploaded', async () => {
    const result = await startCli(['upload', 'clip one.mp4', '--key', 'never.mp4', '--wait'], dir, env).done;
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--wait follows the job that --start-job starts.');
    await expect(s3.send(new HeadObjectCommand({ Bucket: 'demo-input', Key: 'never.mp4' }))).rejects.toMatchObject({ name: 'NotFound' });
  });
});

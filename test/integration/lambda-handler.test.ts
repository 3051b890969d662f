/**
 * The Lambda handler in-process: S3 HeadObject against moto over real HTTP, MediaConvert faked with
 * aws-sdk-client-mock (no emulator implements it); the CreateJob request is checked field by field.
 */
import { CreateBucketCommand, DeleteObjectTaggingCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateJobCommand, MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHandler, decodeS3Key, type S3Event } from '../../src/lambda/handler.js';
import { readLambdaConfig, lambdaEnvironment } from '../../src/lambda/env.js';
import { clientRequestTokenFor } from '../../src/upload/job-request.js';
import { motoAvailable, startMoto, type Moto } from '../helpers/moto.js';

const config = {
  app: 'demo',
  template: 'mp4' as const,
  roleArn: 'arn:aws:iam::123456789012:role/demo-mediaconvert-job',
  outputBucket: 'demo-output',
  region: 'us-east-1',
};

/** A record as S3 sends it: the key URL-encoded, "+" for spaces. */
function record(key: string, etag: string, eventName = 'ObjectCreated:CompleteMultipartUpload') {
  const encoded = encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
  return { eventVersion: '2.1', eventSource: 'aws:s3', eventName, s3: { bucket: { name: 'demo-input' }, object: { key: encoded, eTag: etag, size: 10 } } };
}

describe('decodeS3Key', () => {
  it('turns + into a space and decodes percent escapes', () => {
    expect(decodeS3Key('my+video.mp4')).toBe('my video.mp4');
    expect(decodeS3Key('a%2Bb.mp4')).toBe('a+b.mp4');
    expect(decodeS3Key('caf%C3%A9%20%E2%9C%93.mp4')).toBe('café ✓.mp4');
  });
});

describe('readLambdaConfig', () => {
  it('reads what lambdaEnvironment writes', () => {
    const { region, ...rest } = config;
    expect(readLambdaConfig({ ...lambdaEnvironment(rest), AWS_REGION: region })).toEqual(config);
  });
  it('names missing variables', () => {
    expect(() => readLambdaConfig({ AWS_REGION: 'us-east-1' })).toThrow(/VIDPIPE_APP, VIDPIPE_TEMPLATE, VIDPIPE_JOB_ROLE_ARN, VIDPIPE_OUTPUT_BUCKET/);
  });
});

describe.runIf(motoAvailable())('Lambda handler (moto S3, mocked MediaConvert)', () => {
  let moto: Moto;
  let s3: S3Client;
  const mc = mockClient(MediaConvertClient);
  const mediaconvert = new MediaConvertClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const etags = new Map<string, string>();
  const keys = ['posts/42/my video.mp4', 'posts/7/a+b.mov', 'posts/9/café ✓.mkv', 'no-meta.mp4'];
  let logs: Record<string, unknown>[];
  let handler: ReturnType<typeof createHandler>;

  beforeAll(async () => {
    moto = await startMoto();
    s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'demo-input' }));
    for (const key of keys) {
      const postId = /posts\/(\d+)\//.exec(key)?.[1];
      const out = await s3.send(new PutObjectCommand({ Bucket: 'demo-input', Key: key, Body: `video ${key}`, ...(postId ? { Metadata: { 'post-id': postId } } : {}) }));
      etags.set(key, out.ETag!.replace(/"/g, ''));
    }
  });
  afterAll(async () => {
    s3?.destroy();
    await moto?.stop();
  });
  beforeEach(async () => {
    // Each test starts from objects no job was recorded on (the handler tags the object version it started a job for).
    for (const key of keys) await s3.send(new DeleteObjectTaggingCommand({ Bucket: 'demo-input', Key: key }));
    mc.reset();
    let n = 0;
    mc.on(CreateJobCommand).callsFake(async () => ({ Job: { Id: `job-${++n}`, Role: config.roleArn, Settings: {} } }));
    logs = [];
    handler = createHandler({ config, s3, mediaconvert, log: (l) => logs.push(l) });
  });

  it('starts one job per record, with decoded keys and the post id from the object metadata', async () => {
    const event: S3Event = { Records: keys.map((k) => record(k, etags.get(k)!)) };
    const result = await handler(event);
    expect(result.jobs.map((j) => [j.key, j.jobId, j.postId])).toEqual([
      ['posts/42/my video.mp4', 'job-1', '42'],
      ['posts/7/a+b.mov', 'job-2', '7'],
      ['posts/9/café ✓.mkv', 'job-3', '9'],
      ['no-meta.mp4', 'job-4', undefined],
    ]);
    const calls = mc.commandCalls(CreateJobCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(4);
    const first = calls[0]!;
    expect(first.JobTemplate).toBe('demo-mp4');
    expect(first.Role).toBe(config.roleArn);
    expect(first.Settings?.Inputs?.[0]?.FileInput).toBe('s3://demo-input/posts/42/my video.mp4');
    expect(first.Settings?.OutputGroups?.[0]?.OutputGroupSettings?.FileGroupSettings?.Destination).toBe('s3://demo-output/posts/42/my video/mp4/');
    expect(first.UserMetadata).toEqual({ postId: '42', inputKey: 'posts/42/my video.mp4', app: 'demo' });
    expect(first.StatusUpdateInterval).toBe('SECONDS_10');
    expect(first.ClientRequestToken).toBe(clientRequestTokenFor({ bucket: 'demo-input', key: 'posts/42/my video.mp4', etag: etags.get('posts/42/my video.mp4') }, 'mp4'));
    expect(calls[1]!.Settings?.Inputs?.[0]?.FileInput).toBe('s3://demo-input/posts/7/a+b.mov');
    expect(calls[2]!.UserMetadata).toEqual({ postId: '9', inputKey: 'posts/9/café ✓.mkv', app: 'demo' });
    expect(calls[3]!.UserMetadata).toEqual({ inputKey: 'no-meta.mp4', app: 'demo' });
    // Structured log lines name every job id; the object without a post id is warned about.
    expect(logs.filter((l) => l.msg === 'job created').map((l) => l.jobId)).toEqual(['job-1', 'job-2', 'job-3', 'job-4']);
    expect(logs.some((l) => l.level === 'warn' && l.key === 'no-meta.mp4')).toBe(true);
  });

  it('a retried event starts no second job: the first recorded its job on the object', async () => {
    const event: S3Event = { Records: [record(keys[0]!, etags.get(keys[0]!)!)] };
    const first = await handler(event);
    const again = await handler(event);
    expect(mc.commandCalls(CreateJobCommand)).toHaveLength(1);
    expect(again.jobs).toEqual([]);
    expect(again.skipped).toEqual([{ key: keys[0], reason: `job ${first.jobs[0]!.jobId} was already started for this object version` }]);
  });

  it('ignores the s3:TestEvent message and non-create records', async () => {
    const test = await handler({ Event: 's3:TestEvent' } as S3Event);
    expect(test).toEqual({ jobs: [], skipped: [] });
    const removed = await handler({ Records: [record(keys[0]!, 'x', 'ObjectRemoved:Delete')] });
    expect(removed.jobs).toEqual([]);
    expect(removed.skipped).toHaveLength(1);
    expect(mc.commandCalls(CreateJobCommand)).toHaveLength(0);
  });

  it('tries every record, then throws so Lambda retries', async () => {
    mc.reset();
    mc.on(CreateJobCommand).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' })).resolves({ Job: { Id: 'job-ok', Role: config.roleArn, Settings: {} } });
    const event: S3Event = { Records: [record(keys[0]!, etags.get(keys[0]!)!), record(keys[1]!, etags.get(keys[1]!)!)] };
    await expect(handler(event)).rejects.toThrow(/1 of 2 record\(s\) failed: posts\/42\/my video.mp4: TooManyRequestsException/);
    expect(mc.commandCalls(CreateJobCommand)).toHaveLength(2);
    expect(logs.some((l) => l.msg === 'job created' && l.jobId === 'job-ok')).toBe(true);
  });

  it('a missing object fails the invocation (HeadObject 404)', async () => {
    await expect(handler({ Records: [record('gone.mp4', 'x')] })).rejects.toThrow(/gone.mp4/);
    expect(mc.commandCalls(CreateJobCommand)).toHaveLength(0);
  });
});

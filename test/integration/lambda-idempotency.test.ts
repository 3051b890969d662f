/**
 * At most one MediaConvert job per object version, whatever the timing (issue 12, items 1 and 2). The trigger is
 * provisioned by vidpipe on moto; the handler runs in-process (moto's Lambda does not run code) against moto's S3 and
 * the MediaConvert fake, whose ClientRequestToken window is one minute on a clock the test moves. Lambda's async retries
 * and on-failure destination are modelled by test/helpers/lambda-async.ts from the invoke config read back from moto.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectTaggingCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateJobCommand, type MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsContext, type AwsContext } from '../../src/aws/context.js';
import { defaultConfig, type VidpipeConfig } from '../../src/config/config.js';
import { createHandler, JOB_TAG_KEY, type S3Event } from '../../src/lambda/handler.js';
import { parsePolicyDocument } from '../../src/provision/documents.js';
import { applyObservedPlan, observeAll, planSetup } from '../../src/provision/service.js';
import { invokeAsync } from '../helpers/lambda-async.js';
import { startMediaConvertFake, type MediaConvertFake } from '../helpers/mediaconvert-fake.js';
import { MOTO_ACCOUNT, MOTO_REGION, motoAvailable, startMoto, type Moto } from '../helpers/moto.js';

const APP = 'idem';
const BUCKET = `${APP}-input`;

function record(key: string, etag: string, versionId?: string): S3Event {
  return {
    Records: [
      { eventName: 'ObjectCreated:Put', s3: { bucket: { name: BUCKET }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), eTag: etag, ...(versionId ? { versionId } : {}) } } },
    ],
  };
}

describe.runIf(motoAvailable())('the upload trigger starts at most one job per object version', () => {
  let moto: Moto;
  let fake: MediaConvertFake;
  let aws: AwsContext;
  let s3: S3Client;
  let mediaconvert: MediaConvertClient;
  let t = Date.parse('2026-06-01T12:00:00Z');
  const clock = { now: () => t, advance: (ms: number) => void (t += ms) };
  let config: VidpipeConfig;
  let logs: Record<string, unknown>[];
  let n = 0;

  const handlerWith = (mc: Pick<MediaConvertClient, 'send'> = mediaconvert) =>
    createHandler({
      config: { app: APP, template: 'mp4', roleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/${APP}-mediaconvert-job`, outputBucket: `${APP}-output`, region: MOTO_REGION },
      s3,
      mediaconvert: mc,
      log: (l) => logs.push(l),
      now: clock.now,
      tagRetry: { sleep: async () => undefined },
    });

  async function upload(key: string, body = `video ${++n}`) {
    const out = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, Metadata: { 'post-id': '42' } }));
    return { etag: out.ETag!.replace(/"/g, ''), versionId: out.VersionId };
  }

  beforeAll(async () => {
    [moto, fake] = await Promise.all([startMoto(), startMediaConvertFake({ region: MOTO_REGION, accountId: MOTO_ACCOUNT, now: clock.now })]);
    Object.assign(process.env, moto.env, fake.env);
    aws = createAwsContext({ region: MOTO_REGION });
    config = { ...defaultConfig(APP), region: MOTO_REGION, templates: ['mp4'], listener: { url: 'https://listener.example.test/aws/listener/eventbridge/video', auth: 'API_KEY', authHeader: 'x-api-key' } };
    const dir = mkdtempSync(path.join(tmpdir(), 'vidpipe-idem-'));
    const observation = await observeAll({ config, configPath: path.join(dir, 'vidpipe.config.json'), aws });
    const applied = await applyObservedPlan(observation, planSetup(observation), aws);
    expect(applied.failed).toEqual([]);
    s3 = await aws.s3();
    mediaconvert = await aws.mediaconvert();
  }, 60_000);
  afterAll(async () => {
    aws?.destroy();
    await Promise.all([moto?.stop(), fake?.close()]);
  });
  beforeEach(() => {
    logs = [];
    fake.requests.length = 0;
  });

  it('the same record delivered at 0 s, 70 s and 190 s starts one job (the token alone is honoured for a minute)', async () => {
    const { etag } = await upload('posts/42/talk.mp4');
    const handler = handlerWith();
    const before = fake.jobs().length;
    const first = await handler(record('posts/42/talk.mp4', etag));
    clock.advance(70_000);
    const second = await handler(record('posts/42/talk.mp4', etag));
    clock.advance(120_000);
    const third = await handler(record('posts/42/talk.mp4', etag));
    expect(fake.jobs().length - before).toBe(1);
    expect(first.jobs).toHaveLength(1);
    expect([second.jobs, third.jobs]).toEqual([[], []]);
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'posts/42/talk.mp4' }));
    expect(tags.TagSet).toEqual([{ Key: JOB_TAG_KEY, Value: first.jobs[0]!.jobId }]);
  });

  it('a Lambda that died right after CreateJob is retried (1 and 2 minutes later) without a second job', async () => {
    const { etag } = await upload('posts/42/timeout.mp4');
    const before = fake.jobs().length;
    let invocation = 0;
    // The first invocation creates the job, then "times out" before it can record it on the object.
    const dying: Pick<MediaConvertClient, 'send'> = {
      send: (async (command: unknown) => {
        const out = await mediaconvert.send(command as never);
        if (command instanceof CreateJobCommand && invocation === 1) throw Object.assign(new Error('Task timed out after 60.00 seconds'), { name: 'TimeoutError' });
        return out;
      }) as MediaConvertClient['send'],
    };
    const handler = handlerWith(dying);
    const result = await invokeAsync(
      (e: S3Event) => {
        invocation++;
        return handler(e);
      },
      record('posts/42/timeout.mp4', etag),
      {
        config: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 21_600 },
        functionArn: `arn:aws:lambda:${MOTO_REGION}:${MOTO_ACCOUNT}:function:${APP}-upload-trigger`,
        clock,
        deliver: async () => undefined,
      },
    );
    expect(result).toMatchObject({ succeeded: true, attempts: 2 });
    expect(fake.jobs().length - before).toBe(1);
    expect(fake.requestsOf('CreateJob')).toHaveLength(1);
    expect(logs.some((l) => /found the job an earlier attempt started/.test(String(l.msg)))).toBe(true);
  });

  it('a record that fails every attempt ends in the dead-letter queue (the function’s on-failure destination)', async () => {
    const lambda = await aws.lambda();
    const L = await import('@aws-sdk/client-lambda');
    const invokeConfig = await lambda.send(new L.GetFunctionEventInvokeConfigCommand({ FunctionName: `${APP}-upload-trigger` }));
    const dlqArn = `arn:aws:sqs:${MOTO_REGION}:${MOTO_ACCOUNT}:${APP}-events-dlq`;
    expect(invokeConfig).toMatchObject({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21_600, DestinationConfig: { OnFailure: { Destination: dlqArn } } });
    // The execution role may send there (Lambda sends the record with it).
    const iam = await aws.iam();
    const I = await import('@aws-sdk/client-iam');
    const access = parsePolicyDocument((await iam.send(new I.GetRolePolicyCommand({ RoleName: `${APP}-upload-trigger`, PolicyName: 'vidpipe' }))).PolicyDocument) as {
      Statement: { Sid: string; Action: string | string[]; Resource: string | string[] }[];
    };
    expect(access.Statement.find((s) => s.Sid === 'FailedInvocationsToDlq')).toMatchObject({ Action: 'sqs:SendMessage', Resource: dlqArn });

    const sqs = await aws.sqs();
    const Q = await import('@aws-sdk/client-sqs');
    const { QueueUrl } = await sqs.send(new Q.GetQueueUrlCommand({ QueueName: `${APP}-events-dlq` }));
    const event = record('posts/42/never-uploaded.mp4', 'd41d8cd98f00b204e9800998ecf8427e');
    const result = await invokeAsync(handlerWith(), event, {
      config: {
        maximumRetryAttempts: invokeConfig.MaximumRetryAttempts!,
        maximumEventAgeInSeconds: invokeConfig.MaximumEventAgeInSeconds!,
        onFailure: invokeConfig.DestinationConfig!.OnFailure!.Destination!,
      },
      functionArn: `arn:aws:lambda:${MOTO_REGION}:${MOTO_ACCOUNT}:function:${APP}-upload-trigger`,
      clock,
      deliver: async (destination, body) => {
        expect(destination).toBe(dlqArn);
        await sqs.send(new Q.SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(body) }));
      },
    });
    expect(result).toMatchObject({ succeeded: false, attempts: 3 });
    const received = await sqs.send(new Q.ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    expect(received.Messages).toHaveLength(1);
    const dead = JSON.parse(received.Messages![0]!.Body!);
    expect(dead.requestContext).toMatchObject({ condition: 'RetriesExhausted', approximateInvokeCount: 3 });
    expect(dead.requestPayload).toEqual(event);
    expect(dead.responsePayload.errorMessage).toMatch(/never-uploaded\.mp4/);
    expect(fake.requestsOf('CreateJob')).toHaveLength(0);
  });

  it('on a versioned bucket each version is its own job, once, and the role may read versions of the input bucket only', async () => {
    await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = await upload('posts/7/clip.mp4', 'first cut');
    const v2 = await upload('posts/7/clip.mp4', 'second cut');
    expect(v1.versionId && v2.versionId && v1.versionId !== v2.versionId).toBe(true);
    const handler = handlerWith();
    const before = fake.jobs().length;
    const a = await handler(record('posts/7/clip.mp4', v1.etag, v1.versionId));
    const b = await handler(record('posts/7/clip.mp4', v2.etag, v2.versionId));
    clock.advance(3 * 3600_000);
    const again = await handler(record('posts/7/clip.mp4', v1.etag, v1.versionId));
    expect(fake.jobs().length - before).toBe(2);
    expect(again.jobs).toEqual([]);
    expect([a.jobs[0]!.versionId, b.jobs[0]!.versionId]).toEqual([v1.versionId, v2.versionId]);
    // The tag is on the version the record named.
    const t1 = await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: 'posts/7/clip.mp4', VersionId: v1.versionId }));
    expect(t1.TagSet).toEqual([{ Key: JOB_TAG_KEY, Value: a.jobs[0]!.jobId }]);

    // HeadObject with a VersionId needs s3:GetObjectVersion (AWS enforces it; moto does not enforce IAM at all, so the
    // grant is asserted on the role's policy): scoped to the input bucket's objects.
    const iam = await aws.iam();
    const I = await import('@aws-sdk/client-iam');
    const access = parsePolicyDocument((await iam.send(new I.GetRolePolicyCommand({ RoleName: `${APP}-upload-trigger`, PolicyName: 'vidpipe' }))).PolicyDocument) as {
      Statement: { Sid: string; Action: string | string[]; Resource: string | string[] }[];
    };
    const versionGrants = access.Statement.filter((s) => [s.Action].flat().some((x) => /^s3:.*Version/.test(x)));
    expect(versionGrants.map((s) => s.Resource)).toEqual([`arn:aws:s3:::${BUCKET}/*`, `arn:aws:s3:::${BUCKET}/*`]);
    expect(access.Statement.find((s) => s.Sid === 'ReadUploads')!.Action).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
  });
});

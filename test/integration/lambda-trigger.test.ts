/**
 * The S3 → Lambda trigger's resources (trigger: 'lambda') set up, re-planned, updated and torn down against moto:
 * execution role, function (code updated only on a new bundle hash), S3 permission, bucket notification (another
 * notification on the bucket is kept), Errors alarm.
 */
import { CreateBucketCommand, GetBucketNotificationConfigurationCommand, PutBucketNotificationConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetFunctionConfigurationCommand, GetPolicyCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeAlarmsCommand, CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { zipSync } from 'fflate';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsContext, type AwsContext } from '../../src/aws/context.js';
import { defaultConfig, type VidpipeConfig } from '../../src/config/config.js';
import { applyObservedPlan, observeAll, planSetup, planTeardown } from '../../src/provision/service.js';
import { changesIn } from '../../src/provision/plan.js';
import { inputBucket, outputBucket } from '../../src/provision/resources/bucket.js';
import { jobRole } from '../../src/provision/resources/job-role.js';
import { alarmTopic } from '../../src/provision/resources/alarms.js';
import { lambdaRole } from '../../src/provision/resources/lambda-role.js';
import { lambdaFunction } from '../../src/provision/resources/lambda-function.js';
import { lambdaPermission } from '../../src/provision/resources/lambda-permission.js';
import { bucketNotification } from '../../src/provision/resources/bucket-notification.js';
import { lambdaErrorsAlarm } from '../../src/provision/resources/lambda-errors-alarm.js';
import { motoAvailable, startMoto, type Moto } from '../helpers/moto.js';

const MODULES = [inputBucket, outputBucket, jobRole, alarmTopic, lambdaRole, lambdaFunction, lambdaPermission, bucketNotification, lambdaErrorsAlarm];
const TRIGGER_IDS = ['lambda-role', 'lambda-function', 'lambda-permission', 'bucket-notification', 'alarm:lambda-errors'];

describe.runIf(motoAvailable())('Lambda trigger resources (moto)', () => {
  let moto: Moto;
  let aws: AwsContext;
  let configPath: string;
  const clients = { s3: undefined as unknown as S3Client, sqs: undefined as unknown as SQSClient, lambda: undefined as unknown as LambdaClient, cw: undefined as unknown as CloudWatchClient, iam: undefined as unknown as IAMClient };
  const config: VidpipeConfig = { ...defaultConfig('demo'), region: 'us-east-1', trigger: 'lambda', triggerSuffix: '.mp4', templates: ['hls', 'mp4'] };
  let queueArn: string;

  beforeAll(async () => {
    moto = await startMoto({ record: true });
    Object.assign(process.env, moto.env);
    const common = { endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
    clients.s3 = new S3Client({ ...common, forcePathStyle: true });
    clients.sqs = new SQSClient(common);
    clients.lambda = new LambdaClient(common);
    clients.cw = new CloudWatchClient(common);
    clients.iam = new IAMClient(common);
    aws = createAwsContext({ region: 'us-east-1', endpointUrl: moto.endpoint });
    configPath = path.join(mkdtempSync(path.join(tmpdir(), 'vidpipe-trigger-')), 'vidpipe.config.json');
    // The bucket already notifies a queue: that notification must survive setup and teardown.
    await clients.s3.send(new CreateBucketCommand({ Bucket: 'demo-input' }));
    const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: 'other-consumer' }));
    queueArn = (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    await clients.s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: 'demo-input',
        NotificationConfiguration: { QueueConfigurations: [{ Id: 'other', QueueArn: queueArn, Events: ['s3:ObjectRemoved:*'] }] },
      }),
    );
  });
  afterAll(async () => {
    aws?.destroy();
    for (const c of Object.values(clients)) c?.destroy();
    await moto?.stop();
  });

  const observe = () => observeAll({ config, configPath, aws, modules: MODULES });
  const notifications = () => clients.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: 'demo-input' }));

  it('setup creates the trigger, the permission before the notification, and keeps the other notification', async () => {
    const observation = await observe();
    const plan = planSetup(observation);
    expect(plan.steps.filter((s) => TRIGGER_IDS.includes(s.resource)).map((s) => [s.resource, s.action])).toEqual(TRIGGER_IDS.map((id) => [id, 'create']));
    const result = await applyObservedPlan(observation, plan, aws);
    expect(result.failed).toEqual([]);

    const fn = await clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'demo-upload-trigger' }));
    expect(fn.Runtime).toBe('nodejs22.x');
    expect(fn.Handler).toBe('index.handler');
    expect(fn.Role).toBe('arn:aws:iam::123456789012:role/demo-upload-trigger');
    expect(fn.Environment?.Variables).toEqual({
      VIDPIPE_APP: 'demo',
      VIDPIPE_TEMPLATE: 'hls',
      VIDPIPE_JOB_ROLE_ARN: 'arn:aws:iam::123456789012:role/demo-mediaconvert-job',
      VIDPIPE_OUTPUT_BUCKET: 'demo-output',
    });
    expect(fn.CodeSha256).toBe(observation.env.lambdaBundle!.sha256);

    const policy = JSON.parse((await clients.lambda.send(new GetPolicyCommand({ FunctionName: 'demo-upload-trigger' }))).Policy!);
    const statement = policy.Statement.find((s: { Sid: string }) => s.Sid === 'demo-s3-invoke');
    expect(statement.Principal).toEqual({ Service: 's3.amazonaws.com' });
    expect(statement.Action).toBe('lambda:InvokeFunction');
    expect(JSON.stringify(statement.Condition)).toContain('arn:aws:s3:::demo-input');
    expect(statement.Condition.StringEquals['AWS:SourceAccount']).toBe('123456789012');

    const n = await notifications();
    expect(n.QueueConfigurations?.map((q) => [q.Id, q.QueueArn])).toEqual([['other', queueArn]]);
    expect(n.LambdaFunctionConfigurations).toHaveLength(1);
    expect(n.LambdaFunctionConfigurations![0]).toMatchObject({ Id: 'demo-upload-trigger', LambdaFunctionArn: fn.FunctionArn, Events: ['s3:ObjectCreated:*'] });
    // AWS answers "Suffix", moto echoes what was sent: compare the name without case.
    expect(n.LambdaFunctionConfigurations![0]!.Filter?.Key?.FilterRules?.map((r) => [r.Name?.toLowerCase(), r.Value])).toEqual([['suffix', '.mp4']]);

    const alarm = (await clients.cw.send(new DescribeAlarmsCommand({ AlarmNames: ['demo-upload-trigger-errors'] }))).MetricAlarms![0]!;
    expect(alarm).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: 'demo-upload-trigger' }] });
    expect(alarm.AlarmActions).toEqual(['arn:aws:sns:us-east-1:123456789012:demo-alarms']);

    const access = JSON.parse(decodeURIComponent((await clients.iam.send(new GetRolePolicyCommand({ RoleName: 'demo-upload-trigger', PolicyName: 'vidpipe' }))).PolicyDocument!));
    const pass = access.Statement.find((s: { Sid: string }) => s.Sid === 'PassJobRole');
    expect(pass.Resource).toBe('arn:aws:iam::123456789012:role/demo-mediaconvert-job');
    expect(access.Statement.find((s: { Sid: string }) => s.Sid === 'ReadUploads').Resource).toBe('arn:aws:s3:::demo-input/*');

    // S3 checks the permission when the notification is written: AddPermission came first.
    const calls = moto.recordedRequests().map((r) => `${r.method} ${r.path}`);
    const addPermission = calls.findIndex((c) => /^POST .*\/functions\/demo-upload-trigger\/policy/.test(c));
    // The first PUT is this test's own (the queue notification), the second setup's.
    const puts = calls.flatMap((c, i) => (/^PUT .*\/demo-input\/?\?notification/.test(c) ? [i] : []));
    expect(addPermission).toBeGreaterThanOrEqual(0);
    expect(puts).toHaveLength(2);
    expect(puts[1]).toBeGreaterThan(addPermission);
  });

  it('a second setup changes nothing', async () => {
    expect(changesIn(planSetup(await observe()))).toEqual([]);
  });

  it('a new bundle updates only the function code', async () => {
    const observation = await observe();
    const zip = Buffer.from(zipSync({ 'index.js': new TextEncoder().encode('exports.handler = async () => ({})') }));
    observation.env.lambdaBundle = { zip, sha256: createHash('sha256').update(zip).digest('base64'), codeBytes: 10 };
    const plan = planSetup(observation);
    expect(changesIn(plan).map((s) => [s.resource, s.reason])).toEqual([['lambda-function', 'code changed']]);
    expect((await applyObservedPlan(observation, plan, aws)).failed).toEqual([]);
    const fn = await clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'demo-upload-trigger' }));
    expect(fn.CodeSha256).toBe(observation.env.lambdaBundle.sha256);
  });

  it('teardown removes the trigger in reverse order and keeps the other notification', async () => {
    const observation = await observe();
    const plan = planTeardown(observation, false);
    const result = await applyObservedPlan(observation, plan, aws);
    expect(result.failed).toEqual([]);
    await expect(clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'demo-upload-trigger' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    const n = await notifications();
    expect(n.LambdaFunctionConfigurations ?? []).toEqual([]);
    expect(n.QueueConfigurations?.map((q) => q.Id)).toEqual(['other']);
    expect((await clients.cw.send(new DescribeAlarmsCommand({ AlarmNames: ['demo-upload-trigger-errors'] }))).MetricAlarms).toEqual([]);
    const after = planSetup(await observe());
    expect(after.steps.filter((s) => TRIGGER_IDS.includes(s.resource)).every((s) => s.action === 'create')).toBe(true);
  });
});

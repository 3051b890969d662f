/**
 * setup / status / teardown against moto over real HTTP, with MediaConvert on the fake
 * (AWS_ENDPOINT_URL_MEDIACONVERT) while everything else points at moto (AWS_ENDPOINT_URL). Each resource is checked
 * with the SDK the way a user's AWS CLI would see it.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsContext, type AwsContext } from '../../src/aws/context.js';
import { defaultConfig, type VidpipeConfig } from '../../src/config/config.js';
import { readSecrets } from '../../src/config/secrets.js';
import { VidpipeError } from '../../src/errors.js';
import { changesIn, countActions } from '../../src/provision/plan.js';
import { RESOURCES } from '../../src/provision/resources/index.js';
import { applyObservedPlan, observeAll, planSetup, planTeardown, statusRows, type ProvisionOptions } from '../../src/provision/service.js';
import { awsRequests } from '../helpers/aws-calls.js';
import { startMediaConvertFake, type MediaConvertFake } from '../helpers/mediaconvert-fake.js';
import { MOTO_ACCOUNT, MOTO_REGION, motoAvailable, startMoto, type Moto } from '../helpers/moto.js';

const LISTENER_URL = 'https://listener.example.test/aws/listener/eventbridge/video';

describe.runIf(motoAvailable())('provisioning against moto + the MediaConvert fake', () => {
  let moto: Moto;
  let fake: MediaConvertFake;
  let aws: AwsContext;
  let dir: string;
  let config: VidpipeConfig;

  const options = (extra: Partial<ProvisionOptions> = {}): ProvisionOptions => ({
    config,
    configPath: path.join(dir, 'vidpipe.config.json'),
    aws,
    ...extra,
  });

  async function setup(extra: Partial<ProvisionOptions> = {}) {
    const observation = await observeAll(options(extra));
    const plan = planSetup(observation);
    const applied = await applyObservedPlan(observation, plan, aws);
    return { plan, applied };
  }

  /** The ApiKeyValue of the last Create/UpdateConnection moto received (AWS never returns it; moto after an update neither). */
  function lastKeySent(): string | undefined {
    const lines = readFileSync(moto.recordFile!, 'utf8').split('\n').filter(Boolean);
    for (const line of lines.reverse()) {
      const r = JSON.parse(line) as { headers?: Record<string, string>; body?: string; body_encoded?: boolean };
      if (!/AWSEvents\.(Create|Update)Connection/.test(r.headers?.['X-Amz-Target'] ?? '')) continue;
      const body = r.body_encoded ? Buffer.from(r.body ?? '', 'base64').toString('utf8') : (r.body ?? '');
      return (JSON.parse(body) as { AuthParameters?: { ApiKeyAuthParameters?: { ApiKeyValue?: string } } }).AuthParameters?.ApiKeyAuthParameters?.ApiKeyValue;
    }
    return undefined;
  }

  async function status() {
    const observation = await observeAll(options());
    return statusRows(observation, planSetup(observation));
  }

  beforeAll(async () => {
    [moto, fake] = await Promise.all([startMoto({ record: true }), startMediaConvertFake({ region: MOTO_REGION, accountId: MOTO_ACCOUNT })]);
    // Credentials come from the SDK's default chain, which reads the process environment.
    Object.assign(process.env, moto.env, fake.env);
  });
  afterAll(async () => {
    await Promise.all([moto?.stop(), fake?.close()]);
  });
  beforeEach(async () => {
    await moto.reset();
    fake.reset();
    dir = mkdtempSync(path.join(tmpdir(), 'vidpipe-provision-'));
    config = {
      ...defaultConfig('demo'),
      region: MOTO_REGION,
      listener: { url: LISTENER_URL, auth: 'API_KEY', authHeader: 'x-vidpipe-key' },
      statuses: ['COMPLETE', 'ERROR', 'PROGRESSING'],
      rateLimitPerSecond: 25,
      retryPolicy: { maximumRetryAttempts: 20, maximumEventAgeInSeconds: 7200 },
      allowSimulatorSource: true,
      alarmEmail: 'ops@example.test',
    };
    aws?.destroy();
    aws = createAwsContext({ region: MOTO_REGION });
  });

  it('a fresh setup creates every resource as a user would see it', async () => {
    const { plan, applied } = await setup();
    // 19 + the upload trigger (trigger: 'lambda', the default): role, log group, function, async invoke config, permission,
    // notification, alarm; + the event archive.
    expect(countActions(plan)).toMatchObject({ create: 27, update: 0, delete: 0 });
    expect(applied.failed).toEqual([]);
    expect(plan.notes).toEqual([]);

    const eb = await aws.eventbridge();
    const EB = await import('@aws-sdk/client-eventbridge');
    const ruleArn = `arn:aws:events:${MOTO_REGION}:${MOTO_ACCOUNT}:rule/demo-mediaconvert-events`;

    // The rule: MediaConvert job state changes with the configured statuses, plus the simulator's source.
    const rule = await eb.send(new EB.DescribeRuleCommand({ Name: 'demo-mediaconvert-events' }));
    expect(rule.State).toBe('ENABLED');
    expect(JSON.parse(rule.EventPattern!)).toEqual({
      source: ['aws.mediaconvert', 'vidpipe.simulator'],
      'detail-type': ['MediaConvert Job State Change'],
      detail: { status: ['COMPLETE', 'ERROR', 'PROGRESSING'] },
    });

    // The connection: API key auth with the configured header; its key is the one in the local secrets file.
    const conn = await eb.send(new EB.DescribeConnectionCommand({ Name: 'demo-listener' }));
    expect(conn.AuthorizationType).toBe('API_KEY');
    expect(conn.AuthParameters?.ApiKeyAuthParameters?.ApiKeyName).toBe('x-vidpipe-key');
    const secretsFile = path.join(dir, '.vidpipe', 'secrets.json');
    const secrets = readSecrets(secretsFile)!;
    expect(secrets.apiKeys).toHaveLength(1);
    expect(secrets.apiKeys[0]).toMatch(/^vp_[A-Za-z0-9_-]{43}$/);
    expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
    expect(lastKeySent()).toBe(secrets.apiKeys[0]);
    // The marker records a fingerprint, never the key.
    expect(readFileSync(path.join(dir, '.vidpipe', 'provision-state.json'), 'utf8')).not.toContain(secrets.apiKeys[0]);

    // The API destination: the listener URL, POST, the rate limit, through the connection.
    const dest = await eb.send(new EB.DescribeApiDestinationCommand({ Name: 'demo-listener' }));
    expect(dest).toMatchObject({ InvocationEndpoint: LISTENER_URL, HttpMethod: 'POST', ConnectionArn: conn.ConnectionArn });
    expect(Number(dest.InvocationRateLimitPerSecond)).toBe(25);

    // The target: the destination, the invoke role, an explicit retry policy and the DLQ.
    const sqs = await aws.sqs();
    const SQS = await import('@aws-sdk/client-sqs');
    const { QueueUrl } = await sqs.send(new SQS.GetQueueUrlCommand({ QueueName: 'demo-events-dlq' }));
    const queue = await sqs.send(new SQS.GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    const queueArn = queue.Attributes!.QueueArn!;
    const { Targets } = await eb.send(new EB.ListTargetsByRuleCommand({ Rule: 'demo-mediaconvert-events' }));
    expect(Targets).toHaveLength(1);
    expect(Targets![0]).toMatchObject({
      Id: 'demo-listener',
      Arn: dest.ApiDestinationArn,
      RoleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/demo-eventbridge-invoke`,
      RetryPolicy: { MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: 7200 },
      DeadLetterConfig: { Arn: queueArn },
    });

    // The DLQ accepts exactly this rule.
    expect(queue.Attributes!.FifoQueue).toBeUndefined();
    expect(JSON.parse(queue.Attributes!.Policy!).Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
      }),
    ]);

    // The roles: trust and least privilege.
    const iam = await aws.iam();
    const IAM = await import('@aws-sdk/client-iam');
    const decode = (s?: string) => JSON.parse(s!.startsWith('{') ? s! : decodeURIComponent(s!));
    const jobRole = await iam.send(new IAM.GetRoleCommand({ RoleName: 'demo-mediaconvert-job' }));
    expect(decode(jobRole.Role!.AssumeRolePolicyDocument).Statement[0]).toMatchObject({
      Principal: { Service: 'mediaconvert.amazonaws.com' },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'aws:SourceAccount': MOTO_ACCOUNT } },
    });
    const jobAccess = await iam.send(new IAM.GetRolePolicyCommand({ RoleName: 'demo-mediaconvert-job', PolicyName: 'vidpipe' }));
    expect(decode(jobAccess.PolicyDocument).Statement.map((s: { Action: string; Resource: string }) => [s.Action, s.Resource])).toEqual([
      ['s3:GetObject', 'arn:aws:s3:::demo-input/*'],
      ['s3:PutObject', 'arn:aws:s3:::demo-output/*'],
    ]);
    expect(jobRole.Role!.Tags).toContainEqual({ Key: 'vidpipe:app', Value: 'demo' });
    const invokeRole = await iam.send(new IAM.GetRoleCommand({ RoleName: 'demo-eventbridge-invoke' }));
    expect(decode(invokeRole.Role!.AssumeRolePolicyDocument).Statement[0]).toMatchObject({
      Principal: { Service: 'events.amazonaws.com' },
      Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
    });
    const invokeAccess = await iam.send(new IAM.GetRolePolicyCommand({ RoleName: 'demo-eventbridge-invoke', PolicyName: 'vidpipe' }));
    expect(decode(invokeAccess.PolicyDocument).Statement).toEqual([
      { Sid: 'InvokeListener', Effect: 'Allow', Action: 'events:InvokeApiDestination', Resource: dest.ApiDestinationArn },
    ]);

    // The operator policy: PassRole on the job role only, to MediaConvert only.
    const policyArn = `arn:aws:iam::${MOTO_ACCOUNT}:policy/demo-operator`;
    const policy = await iam.send(new IAM.GetPolicyCommand({ PolicyArn: policyArn }));
    const version = await iam.send(new IAM.GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: policy.Policy!.DefaultVersionId! }));
    expect(decode(version.PolicyVersion!.Document).Statement).toContainEqual({
      Sid: 'PassJobRole',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: `arn:aws:iam::${MOTO_ACCOUNT}:role/demo-mediaconvert-job`,
      Condition: { StringEquals: { 'iam:PassedToService': 'mediaconvert.amazonaws.com' } },
    });

    // The buckets: public access blocked, encrypted, tagged.
    const s3 = await aws.s3();
    const S3 = await import('@aws-sdk/client-s3');
    for (const Bucket of ['demo-input', 'demo-output']) {
      const pab = await s3.send(new S3.GetPublicAccessBlockCommand({ Bucket }));
      expect(pab.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
      const enc = await s3.send(new S3.GetBucketEncryptionCommand({ Bucket }));
      expect(enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
      const tags = await s3.send(new S3.GetBucketTaggingCommand({ Bucket }));
      expect(tags.TagSet).toContainEqual({ Key: 'vidpipe:app', Value: 'demo' });
    }

    // The alarms, on the rule's metrics and the DLQ's depth, notifying the topic; the e-mail subscribed.
    const topicArn = `arn:aws:sns:${MOTO_REGION}:${MOTO_ACCOUNT}:demo-alarms`;
    const cw = await aws.cloudwatch();
    const CW = await import('@aws-sdk/client-cloudwatch');
    const alarms = await cw.send(new CW.DescribeAlarmsCommand({ AlarmNamePrefix: 'demo-' }));
    const seen = Object.fromEntries(
      (alarms.MetricAlarms ?? []).map((a) => [a.AlarmName, [a.Namespace, a.MetricName, a.Dimensions?.[0]?.Value, a.ComparisonOperator, a.Threshold, a.AlarmActions]]),
    );
    expect(seen).toEqual({
      'demo-failed-invocations': ['AWS/Events', 'FailedInvocations', 'demo-mediaconvert-events', 'GreaterThanThreshold', 0, [topicArn]],
      'demo-retry-invocation-attempts': ['AWS/Events', 'RetryInvocationAttempts', 'demo-mediaconvert-events', 'GreaterThanOrEqualToThreshold', 1, [topicArn]],
      'demo-invocations-sent-to-dlq': ['AWS/Events', 'InvocationsSentToDLQ', 'demo-mediaconvert-events', 'GreaterThanThreshold', 0, [topicArn]],
      'demo-dlq-messages-visible': ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'demo-events-dlq', 'GreaterThanThreshold', 0, [topicArn]],
      'demo-upload-trigger-errors': ['AWS/Lambda', 'Errors', 'demo-upload-trigger', 'GreaterThanThreshold', 0, [topicArn]],
    });
    // Retries while the listener is down alarm within 15 minutes, not after EventBridge's 24 hours of retrying.
    const retries = alarms.MetricAlarms!.find((a) => a.AlarmName === 'demo-retry-invocation-attempts')!;
    expect([retries.Statistic, retries.Period, retries.EvaluationPeriods, retries.DatapointsToAlarm, retries.TreatMissingData]).toEqual(['Sum', 300, 3, 3, 'notBreaching']);
    const sns = await aws.sns();
    const SNS = await import('@aws-sdk/client-sns');
    const subs = await sns.send(new SNS.ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
    expect(subs.Subscriptions?.map((s) => [s.Protocol, s.Endpoint])).toEqual([['email', 'ops@example.test']]);

    // The job templates, on the fake, with destinations in the output bucket.
    expect(fake.jobTemplateNames()).toEqual(['demo-hls', 'demo-mp4', 'demo-thumbnails']);
    expect(JSON.stringify(fake.jobTemplate('demo-mp4')!.settings)).toContain('s3://demo-output/default/mp4/');

    const rows = await status();
    expect(rows.filter((r) => r.status !== 'ok')).toEqual([]);
    expect(rows.find((r) => r.resource === 'dead-letter-queue')?.details).toEqual({ depth: 0 });
    expect(rows.find((r) => r.resource === 'connection')?.details).toMatchObject({ auth: 'API_KEY' });
  });

  it('a second setup plans no change and makes no mutating AWS call', async () => {
    await setup();
    const motoBefore = moto.recordedRequests().length;
    fake.requests.length = 0;
    const { plan, applied } = await setup();
    expect(changesIn(plan)).toEqual([]);
    expect(applied.results.every((r) => r.outcome === 'unchanged')).toBe(true);
    const calls = awsRequests(moto, fake).slice(motoBefore);
    expect(calls.length).toBeGreaterThan(15);
    expect(calls.filter((c) => c.mutating)).toEqual([]);
  });

  it('repairs drift: an edited rule pattern, destination URL, bucket setting and connection header', async () => {
    await setup();
    const eb = await aws.eventbridge();
    const EB = await import('@aws-sdk/client-eventbridge');
    await eb.send(new EB.PutRuleCommand({ Name: 'demo-mediaconvert-events', EventPattern: JSON.stringify({ source: ['aws.mediaconvert'] }) }));
    const dest = await eb.send(new EB.DescribeApiDestinationCommand({ Name: 'demo-listener' }));
    await eb.send(
      new EB.UpdateApiDestinationCommand({ Name: 'demo-listener', ConnectionArn: dest.ConnectionArn, InvocationEndpoint: 'https://evil.example.test/', HttpMethod: 'POST' }),
    );
    await eb.send(
      new EB.UpdateConnectionCommand({
        Name: 'demo-listener',
        AuthorizationType: 'API_KEY',
        AuthParameters: { ApiKeyAuthParameters: { ApiKeyName: 'x-other', ApiKeyValue: 'typed-in-the-console' } },
      }),
    );
    const s3 = await aws.s3();
    const S3 = await import('@aws-sdk/client-s3');
    await s3.send(new S3.DeletePublicAccessBlockCommand({ Bucket: 'demo-output' }));

    const drifted = (await status()).filter((r) => r.status !== 'ok');
    expect(Object.fromEntries(drifted.map((r) => [r.resource, r.status]))).toEqual({
      'output-bucket': 'drifted',
      rule: 'drifted',
      connection: 'drifted',
      'api-destination': 'drifted',
    });
    expect(drifted.find((r) => r.resource === 'api-destination')?.reason).toContain('https://evil.example.test/');

    const { plan, applied } = await setup();
    expect(changesIn(plan).map((s) => [s.resource, s.action])).toEqual([
      ['output-bucket', 'update'],
      ['rule', 'update'],
      ['connection', 'update'],
      ['api-destination', 'update'],
    ]);
    expect(applied.failed).toEqual([]);
    expect((await status()).filter((r) => r.status !== 'ok')).toEqual([]);
    const conn = await eb.send(new EB.DescribeConnectionCommand({ Name: 'demo-listener' }));
    expect(conn.AuthParameters?.ApiKeyAuthParameters?.ApiKeyName).toBe('x-vidpipe-key');
    // The key typed in the console is replaced by the local one.
    expect(lastKeySent()).toBe(readSecrets(path.join(dir, '.vidpipe', 'secrets.json'))!.apiKeys[0]);
  });

  it('a failure part-way leaves a state the next setup completes', async () => {
    // A real error on the wire: the fake refuses the first CreateJobTemplate (400 is not retried by the SDK).
    fake.failNext('CreateJobTemplate', { status: 400, type: 'BadRequestException', message: 'injected' });
    // And the API destination fails in the executor: its dependents (invoke role, target) must be skipped.
    const broken = RESOURCES.map((m) =>
      m.id === 'api-destination'
        ? {
            ...m,
            apply: async () => {
              throw new VidpipeError('INJECTED', 'injected failure');
            },
          }
        : m,
    );
    const first = await setup({ modules: broken });
    expect(first.applied.failed.map((r) => r.resource).sort()).toEqual(['api-destination', expect.stringMatching(/^job-template:/)]);
    expect(first.applied.results.filter((r) => r.outcome === 'skipped').map((r) => r.resource).sort()).toEqual(['invoke-role', 'rule-target']);
    expect(first.applied.firstError).toBeInstanceOf(Error);

    const rows = await status();
    expect(rows.filter((r) => r.status === 'missing').map((r) => r.resource).sort()).toEqual(
      ['api-destination', 'invoke-role', 'rule-target', first.applied.failed.find((r) => r.resource.startsWith('job-template'))!.resource].sort(),
    );

    const second = await setup();
    expect(changesIn(second.plan).every((s) => s.action === 'create')).toBe(true);
    expect(changesIn(second.plan)).toHaveLength(4);
    expect(second.applied.failed).toEqual([]);
    expect((await status()).filter((r) => r.status !== 'ok')).toEqual([]);
  });

  it('--rotate-key puts a new key in front of the old one locally and gives it to the connection', async () => {
    await setup();
    const secretsFile = path.join(dir, '.vidpipe', 'secrets.json');
    const [oldKey] = readSecrets(secretsFile)!.apiKeys;
    const { plan } = await setup({ rotateKey: true });
    expect(changesIn(plan).map((s) => [s.resource, s.reason])).toEqual([['connection', 'key rotation requested']]);
    const keys = readSecrets(secretsFile)!.apiKeys;
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(oldKey);
    expect(keys[0]).not.toBe(oldKey);
    expect(lastKeySent()).toBe(keys[0]);
    // Then in sync again.
    expect(changesIn((await setup()).plan)).toEqual([]);
  });

  it('a config change updates in place: a template dropped is deleted, a changed template updated, DLQ off removes it', async () => {
    await setup();
    fake.jobTemplate('demo-mp4')!.description = 'edited in the console';
    config = { ...config, templates: ['mp4', 'hls'], deadLetterQueue: false };
    const { plan, applied } = await setup();
    expect(Object.fromEntries(changesIn(plan).map((s) => [s.resource, s.action]))).toEqual({
      'job-template:mp4': 'update',
      'job-template:thumbnails': 'delete',
      'dead-letter-queue': 'delete',
      'rule-target': 'update',
      // The operator and the upload trigger may create jobs from the installed templates only.
      'operator-policy': 'update',
      'lambda-role': 'update',
      // The trigger's failed events went to the DLQ: no on-failure destination any more.
      'lambda-invoke-config': 'update',
      'alarm:sent-to-dlq': 'delete',
      'alarm:dlq-messages': 'delete',
    });
    expect(applied.failed).toEqual([]);
    expect(fake.requestsOf('UpdateJobTemplate')).toHaveLength(1);
    expect(fake.jobTemplateNames()).toEqual(['demo-hls', 'demo-mp4']);
    const eb = await aws.eventbridge();
    const EB = await import('@aws-sdk/client-eventbridge');
    const { Targets } = await eb.send(new EB.ListTargetsByRuleCommand({ Rule: 'demo-mediaconvert-events' }));
    expect(Targets?.[0]?.DeadLetterConfig).toBeUndefined();
    expect(changesIn((await setup()).plan)).toEqual([]);
  });

  it('adopts an existing bucket of this account, keeping its tags; BASIC auth keeps its credentials locally', async () => {
    const s3 = await aws.s3();
    const S3 = await import('@aws-sdk/client-s3');
    await s3.send(new S3.CreateBucketCommand({ Bucket: 'demo-input' }));
    await s3.send(new S3.PutBucketTaggingCommand({ Bucket: 'demo-input', Tagging: { TagSet: [{ Key: 'team', Value: 'video' }] } }));
    config = { ...config, listener: { ...config.listener, auth: 'BASIC' } };
    const { plan, applied } = await setup();
    expect(plan.steps.find((s) => s.resource === 'input-bucket')).toMatchObject({ action: 'update', reason: expect.stringContaining('public access') });
    expect(applied.failed).toEqual([]);
    const tags = await s3.send(new S3.GetBucketTaggingCommand({ Bucket: 'demo-input' }));
    expect(tags.TagSet).toEqual(expect.arrayContaining([{ Key: 'team', Value: 'video' }, { Key: 'vidpipe:app', Value: 'demo' }]));

    const eb = await aws.eventbridge();
    const EB = await import('@aws-sdk/client-eventbridge');
    const conn = await eb.send(new EB.DescribeConnectionCommand({ Name: 'demo-listener' }));
    expect(conn.AuthorizationType).toBe('BASIC');
    const secrets = readSecrets(path.join(dir, '.vidpipe', 'secrets.json'))!;
    expect(secrets.basicAuth).toMatch(/^vidpipe:[A-Za-z0-9_-]{32}$/);
    expect(changesIn((await setup()).plan)).toEqual([]);
  });

  it('AccessDenied names the action and points at `vidpipe policy` (exit 3)', async () => {
    fake.failNext('GetJobTemplate', { status: 403, type: 'AccessDeniedException', message: 'User is not authorized to perform: mediaconvert:GetJobTemplate' });
    const err = await observeAll(options()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AWS_ACCESS_DENIED', exitCode: 3 });
    expect((err as VidpipeError).message).toMatch(/AWS denied mediaconvert:GetJobTemplate on demo-(mp4|hls|thumbnails)/);
    expect((err as VidpipeError).hint).toContain('vidpipe policy');
  });

  it('teardown deletes everything in reverse order, keeps the buckets unless asked, and a second teardown finds nothing', async () => {
    await setup();
    // Someone attached the operator policy: teardown must detach it first.
    const iam = await aws.iam();
    const IAM = await import('@aws-sdk/client-iam');
    await iam.send(new IAM.CreateUserCommand({ UserName: 'operator' }));
    await iam.send(new IAM.AttachUserPolicyCommand({ UserName: 'operator', PolicyArn: `arn:aws:iam::${MOTO_ACCOUNT}:policy/demo-operator` }));
    const s3 = await aws.s3();
    const S3 = await import('@aws-sdk/client-s3');
    await s3.send(new S3.PutBucketVersioningCommand({ Bucket: 'demo-input', VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new S3.PutObjectCommand({ Bucket: 'demo-input', Key: 'a.mp4', Body: 'one' }));
    await s3.send(new S3.PutObjectCommand({ Bucket: 'demo-input', Key: 'a.mp4', Body: 'two' }));

    const order: string[] = [];
    const observation = await observeAll(options());
    const plan = planTeardown(observation, false);
    expect(plan.notes.join()).toContain('kept the buckets demo-input, demo-output');
    const applied = await applyObservedPlan(observation, plan, aws, (r) => order.push(r.resource));
    expect(applied.failed).toEqual([]);
    // Dependents go first.
    expect(order.indexOf('rule-target')).toBeLessThan(order.indexOf('rule'));
    expect(order.indexOf('rule-target')).toBeLessThan(order.indexOf('api-destination'));
    expect(order.indexOf('api-destination')).toBeLessThan(order.indexOf('connection'));
    expect(order.indexOf('invoke-role')).toBeLessThan(order.indexOf('api-destination'));

    const rows = await status();
    expect(rows.filter((r) => r.status === 'ok').map((r) => r.resource)).toEqual(['input-bucket', 'output-bucket']);
    expect(fake.jobTemplateNames()).toEqual([]);
    const eb = await aws.eventbridge();
    const EB = await import('@aws-sdk/client-eventbridge');
    expect((await eb.send(new EB.ListConnectionsCommand({}))).Connections ?? []).toEqual([]);
    // The connection's Secrets Manager secret went with it (moto models it).
    const res = await fetch(`${moto.endpoint}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.ListSecrets', authorization: 'AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/secretsmanager/aws4_request' },
      body: '{}',
    });
    expect(((await res.json()) as { SecretList: unknown[] }).SecretList).toEqual([]);

    expect(changesIn(planTeardown(await observeAll(options()), false))).toEqual([]);

    const withBuckets = planTeardown(await observeAll(options()), true);
    expect(changesIn(withBuckets).map((s) => s.resource)).toEqual(['input-bucket', 'output-bucket']);
    const deleted = await applyObservedPlan(await observeAll(options()), withBuckets, aws);
    expect(deleted.failed).toEqual([]);
    expect((await s3.send(new S3.ListBucketsCommand({}))).Buckets ?? []).toEqual([]);
    expect(changesIn(planTeardown(await observeAll(options()), true))).toEqual([]);
  });
});

/**
 * SQS delivery (`delivery: "sqs" | "both"`) provisioned against moto over real HTTP, MediaConvert on the fake: the event
 * queue and its rule target as a user's AWS CLI would see them, drift repaired, switching modes, teardown, the operator
 * policy, and a no-change setup making no mutating call (moto's recording).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsContext, type AwsContext } from '../../src/aws/context.js';
import { defaultConfig, type DeliveryMode, type VidpipeConfig } from '../../src/config/config.js';
import { operatorPolicy } from '../../src/provision/documents.js';
import { changesIn } from '../../src/provision/plan.js';
import { applyObservedPlan, observeAll, planSetup, planTeardown, statusRows, type ProvisionOptions } from '../../src/provision/service.js';
import { awsRequests } from '../helpers/aws-calls.js';
import { startMediaConvertFake, type MediaConvertFake } from '../helpers/mediaconvert-fake.js';
import { MOTO_ACCOUNT, MOTO_REGION, motoAvailable, startMoto, type Moto } from '../helpers/moto.js';

const LISTENER_URL = 'https://listener.example.test/aws/listener/eventbridge/video';
const RULE_ARN = `arn:aws:events:${MOTO_REGION}:${MOTO_ACCOUNT}:rule/demo-mediaconvert-events`;
const QUEUE_ARN = `arn:aws:sqs:${MOTO_REGION}:${MOTO_ACCOUNT}:demo-events`;
const DLQ_ARN = `arn:aws:sqs:${MOTO_REGION}:${MOTO_ACCOUNT}:demo-events-dlq`;

describe.runIf(motoAvailable())('SQS delivery provisioning against moto', () => {
  let moto: Moto;
  let fake: MediaConvertFake;
  let aws: AwsContext;
  let dir: string;
  let config: VidpipeConfig;

  const options = (): ProvisionOptions => ({ config, configPath: path.join(dir, 'vidpipe.config.json'), aws });

  async function setup() {
    const observation = await observeAll(options());
    const plan = planSetup(observation);
    const applied = await applyObservedPlan(observation, plan, aws);
    expect(applied.failed).toEqual([]);
    return plan;
  }
  async function status() {
    const observation = await observeAll(options());
    return statusRows(observation, planSetup(observation));
  }
  const withDelivery = (delivery: DeliveryMode) => (config = { ...config, delivery });

  async function queueAttributes() {
    const sqs = await aws.sqs();
    const SQS = await import('@aws-sdk/client-sqs');
    const { QueueUrl } = await sqs.send(new SQS.GetQueueUrlCommand({ QueueName: 'demo-events' }));
    const out = await sqs.send(new SQS.GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    return { url: QueueUrl!, attributes: out.Attributes! };
  }
  async function targets() {
    const eb = await aws.eventbridge();
    const EB = await import('@aws-sdk/client-eventbridge');
    return (await eb.send(new EB.ListTargetsByRuleCommand({ Rule: 'demo-mediaconvert-events' }))).Targets ?? [];
  }
  /** Whether each API-destination resource exists, read with the SDK. */
  async function apiDestinationParts() {
    const eb = await aws.eventbridge();
    const EB = await import('@aws-sdk/client-eventbridge');
    const iam = await aws.iam();
    const IAM = await import('@aws-sdk/client-iam');
    const exists = (p: Promise<unknown>) => p.then(() => true, () => false);
    return {
      connection: await exists(eb.send(new EB.DescribeConnectionCommand({ Name: 'demo-listener' }))),
      destination: await exists(eb.send(new EB.DescribeApiDestinationCommand({ Name: 'demo-listener' }))),
      invokeRole: await exists(iam.send(new IAM.GetRoleCommand({ RoleName: 'demo-eventbridge-invoke' }))),
    };
  }

  beforeAll(async () => {
    [moto, fake] = await Promise.all([startMoto({ record: true }), startMediaConvertFake({ region: MOTO_REGION, accountId: MOTO_ACCOUNT })]);
    Object.assign(process.env, moto.env, fake.env);
  });
  afterAll(async () => {
    aws?.destroy();
    await Promise.all([moto?.stop(), fake?.close()]);
  });
  beforeEach(async () => {
    await moto.reset();
    fake.reset();
    dir = mkdtempSync(path.join(tmpdir(), 'vidpipe-delivery-'));
    config = {
      ...defaultConfig('demo'),
      region: MOTO_REGION,
      listener: { url: LISTENER_URL, auth: 'API_KEY', authHeader: 'x-api-key' },
      templates: ['mp4'],
      trigger: 'none',
      retryPolicy: { maximumRetryAttempts: 20, maximumEventAgeInSeconds: 7200 },
      allowSimulatorSource: true,
      delivery: 'sqs',
    };
    aws?.destroy();
    aws = createAwsContext({ region: MOTO_REGION });
  });

  it('sqs: an encrypted queue only this rule may send to, redriving to the DLQ, and a role-less target; no API destination', async () => {
    const plan = await setup();
    const created = plan.steps.filter((s) => s.action === 'create').map((s) => s.resource);
    expect(created).toEqual(expect.arrayContaining(['event-queue', 'queue-target', 'dead-letter-queue']));
    for (const id of ['connection', 'api-destination', 'invoke-role', 'rule-target']) expect(created).not.toContain(id);

    const { attributes } = await queueAttributes();
    expect(attributes.QueueArn).toBe(QUEUE_ARN);
    expect(attributes.SqsManagedSseEnabled).toBe('true');
    expect(attributes.VisibilityTimeout).toBe('60');
    expect(attributes.ReceiveMessageWaitTimeSeconds).toBe('20');
    expect(attributes.MessageRetentionPeriod).toBe(String(4 * 24 * 3600));
    expect(JSON.parse(attributes.RedrivePolicy!)).toEqual({ deadLetterTargetArn: DLQ_ARN, maxReceiveCount: 5 });
    expect(JSON.parse(attributes.Policy!)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'EventBridgeDelivery',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: QUEUE_ARN,
          Condition: { ArnEquals: { 'aws:SourceArn': RULE_ARN } },
        },
      ],
    });

    // One target: the queue, no role, the same retry policy and DLQ as the API destination's target would have.
    const list = await targets();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ Id: 'demo-queue', Arn: QUEUE_ARN, RetryPolicy: { MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: 7200 }, DeadLetterConfig: { Arn: DLQ_ARN } });
    expect(list[0]!.RoleArn).toBeUndefined();
    expect(await apiDestinationParts()).toEqual({ connection: false, destination: false, invokeRole: false });

    const rows = await status();
    expect(rows.filter((r) => r.status !== 'ok')).toEqual([]);
    expect(rows.find((r) => r.resource === 'event-queue')).toMatchObject({ kind: 'SQS queue (events)', name: 'demo-events', details: { depth: 0, 'in flight': 0 } });
    expect(rows.map((r) => r.resource)).not.toContain('connection');

    // A second setup: nothing to do, and not one mutating call.
    const mark = moto.recordedRequests().length;
    fake.requests.length = 0;
    const again = await setup();
    expect(changesIn(again)).toEqual([]);
    const calls = awsRequests(moto, fake).slice(mark);
    // It did read the queue and the targets (so a drift would have been seen)…
    expect(calls.map((c) => c.operation)).toEqual(expect.arrayContaining(['GetQueueAttributes', 'ListTargetsByRule']));
    // …and changed nothing.
    expect(calls.filter((c) => c.mutating)).toEqual([]);
  });

  it('a queue policy, encryption or redrive changed behind its back shows as drifted and setup repairs it', async () => {
    await setup();
    const sqs = await aws.sqs();
    const SQS = await import('@aws-sdk/client-sqs');
    const { url } = await queueAttributes();
    // Anyone may send now, encryption off, the redrive gone: three reasons on one row.
    const open = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'sqs:SendMessage', Resource: QUEUE_ARN }] };
    const { attributes: before } = await queueAttributes();
    await sqs.send(new SQS.SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: JSON.stringify(open), SqsManagedSseEnabled: 'false', RedrivePolicy: '' } }));
    expect(before.RedrivePolicy).toBeDefined();

    const drifted = (await status()).find((r) => r.resource === 'event-queue')!;
    expect(drifted.status).toBe('drifted');
    // Field by field: the policy's changed leaves, the encryption flag, the missing redrive.
    expect(drifted.reason).toMatch(/Policy\.Statement\[0\]\.Principal: \* → \{"Service":"events\.amazonaws\.com"\}/);
    // The plan carries each change whole (the status line shortens long values).
    const step = planSetup(await observeAll(options())).steps.find((st) => st.resource === 'event-queue')!;
    expect(step.changes).toContainEqual({ field: 'Policy.Statement[0].Condition', current: undefined, wanted: { ArnEquals: { 'aws:SourceArn': RULE_ARN } } });
    expect(drifted.reason).toContain('SqsManagedSseEnabled: false → true');
    expect(drifted.reason).toContain('no redrive policy to the dead-letter queue');

    const plan = await setup();
    expect(changesIn(plan).map((s) => `${s.action} ${s.resource}`)).toEqual(['update event-queue']);
    const { attributes } = await queueAttributes();
    expect(JSON.parse(attributes.Policy!).Statement[0].Condition).toEqual({ ArnEquals: { 'aws:SourceArn': RULE_ARN } });
    expect(attributes.SqsManagedSseEnabled).toBe('true');
    expect(JSON.parse(attributes.RedrivePolicy!)).toEqual({ deadLetterTargetArn: DLQ_ARN, maxReceiveCount: 5 });
    expect((await status()).filter((r) => r.status !== 'ok')).toEqual([]);

    // The target pointed elsewhere and given a role: drifted, then put back.
    const eb = await aws.eventbridge();
    const EB = await import('@aws-sdk/client-eventbridge');
    await eb.send(
      new EB.PutTargetsCommand({
        Rule: 'demo-mediaconvert-events',
        Targets: [{ Id: 'demo-queue', Arn: DLQ_ARN, RoleArn: `arn:aws:iam::${MOTO_ACCOUNT}:role/other` }],
      }),
    );
    const target = (await status()).find((r) => r.resource === 'queue-target')!;
    expect(target).toMatchObject({ status: 'drifted' });
    expect(target.reason).toContain(`Arn: ${DLQ_ARN} → ${QUEUE_ARN}`);
    expect(target.reason).toContain(`RoleArn: arn:aws:iam::${MOTO_ACCOUNT}:role/other → (none)`);
    await setup();
    expect((await targets())[0]).toMatchObject({ Id: 'demo-queue', Arn: QUEUE_ARN, DeadLetterConfig: { Arn: DLQ_ARN } });
    expect((await targets())[0]!.RoleArn).toBeUndefined();
  });

  it('switching delivery: api-destination → both → sqs → api-destination adds and removes exactly what each mode needs', async () => {
    withDelivery('api-destination');
    await setup();
    expect((await targets()).map((t) => t.Id)).toEqual(['demo-listener']);
    expect(await apiDestinationParts()).toEqual({ connection: true, destination: true, invokeRole: true });

    withDelivery('both');
    const both = await setup();
    expect(changesIn(both).map((s) => `${s.action} ${s.resource}`).sort()).toEqual(['create event-queue', 'create queue-target', 'update operator-policy']);
    expect((await targets()).map((t) => t.Id).sort()).toEqual(['demo-listener', 'demo-queue']);
    expect((await status()).filter((r) => r.status !== 'ok')).toEqual([]);

    // Switching is drift until setup runs: status names what goes.
    withDelivery('sqs');
    const pending = (await status()).filter((r) => r.status !== 'ok');
    expect(pending.map((r) => `${r.resource}: ${r.reason}`).sort()).toEqual(
      ['api-destination', 'connection', 'invoke-role', 'rule-target'].map((id) => `${id}: present but not in the config`),
    );
    const sqsOnly = await setup();
    expect(changesIn(sqsOnly).map((s) => `${s.action} ${s.resource}`).sort()).toEqual(['delete api-destination', 'delete connection', 'delete invoke-role', 'delete rule-target']);
    expect((await targets()).map((t) => t.Id)).toEqual(['demo-queue']);
    expect(await apiDestinationParts()).toEqual({ connection: false, destination: false, invokeRole: false });

    withDelivery('api-destination');
    const back = await setup();
    expect(changesIn(back).map((s) => `${s.action} ${s.resource}`).sort()).toEqual([
      'create api-destination',
      'create connection',
      'create invoke-role',
      'create rule-target',
      'delete event-queue',
      'delete queue-target',
      // The puller's statement goes with the queue.
      'update operator-policy',
    ]);
    expect((await targets()).map((t) => t.Id)).toEqual(['demo-listener']);
    const sqs = await aws.sqs();
    const SQS = await import('@aws-sdk/client-sqs');
    await expect(sqs.send(new SQS.GetQueueUrlCommand({ QueueName: 'demo-events' }))).rejects.toThrow();
    expect((await status()).filter((r) => r.status !== 'ok')).toEqual([]);
  });

  it('deadLetterQueue off: the queue has no redrive policy and its target no DLQ', async () => {
    config = { ...config, deadLetterQueue: false };
    await setup();
    const { attributes } = await queueAttributes();
    expect(attributes.RedrivePolicy).toBeUndefined();
    expect((await targets())[0]!.DeadLetterConfig).toBeUndefined();
    expect((await status()).filter((r) => r.status !== 'ok')).toEqual([]);
    // Turned on again: the DLQ is created first, then the queue redrives to it.
    config = { ...config, deadLetterQueue: true };
    await setup();
    expect(JSON.parse((await queueAttributes()).attributes.RedrivePolicy!)).toEqual({ deadLetterTargetArn: DLQ_ARN, maxReceiveCount: 5 });
    expect((await targets())[0]!.DeadLetterConfig).toEqual({ Arn: DLQ_ARN });
  });

  it('teardown deletes the target before the rule and the queue before the DLQ, and finds nothing the second time', async () => {
    withDelivery('both');
    await setup();
    const order: string[] = [];
    const observation = await observeAll(options());
    const applied = await applyObservedPlan(observation, planTeardown(observation, false), aws, (r) => order.push(r.resource));
    expect(applied.failed).toEqual([]);
    expect(order.indexOf('queue-target')).toBeLessThan(order.indexOf('rule'));
    expect(order.indexOf('queue-target')).toBeLessThan(order.indexOf('event-queue'));
    expect(order.indexOf('event-queue')).toBeLessThan(order.indexOf('dead-letter-queue'));
    const sqs = await aws.sqs();
    const SQS = await import('@aws-sdk/client-sqs');
    expect((await sqs.send(new SQS.ListQueuesCommand({}))).QueueUrls ?? []).toEqual([]);
    expect(changesIn(planTeardown(await observeAll(options()), false))).toEqual([]);
  });

  it('the operator policy lets the puller read the event queue (and simulate into it), only in SQS delivery', () => {
    const c = { region: MOTO_REGION, accountId: MOTO_ACCOUNT };
    const sids = (cfg: VidpipeConfig) => operatorPolicy(cfg, c).Statement.map((s) => s.Sid);
    const pull = operatorPolicy(config, c).Statement.find((s) => s.Sid === 'PullEvents');
    expect(pull).toEqual({
      Sid: 'PullEvents',
      Effect: 'Allow',
      // The batch calls are authorized by DeleteMessage and ChangeMessageVisibility.
      Action: ['sqs:GetQueueUrl', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
      Resource: QUEUE_ARN,
    });
    expect(operatorPolicy(config, c).Statement.find((s) => s.Sid === 'SimulateEventsToQueue')).toMatchObject({ Action: 'sqs:SendMessage', Resource: QUEUE_ARN });
    expect(sids({ ...config, allowSimulatorSource: false })).not.toContain('SimulateEventsToQueue');
    expect(sids({ ...config, delivery: 'both' })).toContain('PullEvents');
    expect(sids({ ...config, delivery: 'api-destination' })).not.toContain('PullEvents');
    expect(sids({ ...config, delivery: undefined })).not.toContain('PullEvents');
  });
});

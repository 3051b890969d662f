/**
 * SQS delivery as a user runs it, with the built CLI against moto (real HTTP) and the MediaConvert fake:
 * `init --delivery sqs` (no listener URL) → `setup` → `simulate-complete --via eventbridge` (moto routes it through the
 * rule to the queue target) and `--via sqs` (straight into the queue) → the messages are in the queue with the event as
 * their body; `doctor` checks the queue; a policy edited behind vidpipe's back is drifted, named by doctor and repaired;
 * `setup --delivery` switches modes; teardown removes the queue.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { awsRequests } from '../helpers/aws-calls.js';
import { runCli, spawnListen } from '../helpers/cli.js';
import { startMediaConvertFake, type MediaConvertFake } from '../helpers/mediaconvert-fake.js';
import { MOTO_ACCOUNT, MOTO_REGION, motoAvailable, startMoto, type Moto } from '../helpers/moto.js';

const LISTENER_URL = 'https://listener.example.test/aws/listener/eventbridge/video';

describe.runIf(motoAvailable())('SQS delivery through the built CLI (moto + MediaConvert fake)', () => {
  let moto: Moto;
  let fake: MediaConvertFake;
  let env: Record<string, string>;
  let dir: string;
  let sqs: SQSClient;
  // stdin is not a terminal; HOME is the test's folder, so no real ~/.aws is read.
  const run = (...args: string[]) => runCli(args, { cwd: dir, env: { HOME: dir, ...env } });
  const config = () => JSON.parse(readFileSync(path.join(dir, 'vidpipe.config.json'), 'utf8'));

  /** Every message now in the queue, read without taking them (visibility 0), deduplicated by id. */
  async function peek(queueUrl: string, expected: number): Promise<Message[]> {
    const seen = new Map<string, Message>();
    for (let i = 0; i < 20 && seen.size < expected; i++) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0, WaitTimeSeconds: 1 }));
      for (const m of out.Messages ?? []) seen.set(m.MessageId!, m);
    }
    return [...seen.values()];
  }

  beforeAll(async () => {
    [moto, fake] = await Promise.all([startMoto({ record: true }), startMediaConvertFake({ region: MOTO_REGION, accountId: MOTO_ACCOUNT })]);
    env = { ...moto.env, ...fake.env };
    dir = mkdtempSync(path.join(tmpdir(), 'vidpipe-delivery-cli-'));
    sqs = new SQSClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });
  afterAll(async () => {
    sqs?.destroy();
    await Promise.all([moto?.stop(), fake?.close()]);
  });

  it('init --delivery checks the mode and needs no listener URL for sqs', async () => {
    const bad = await run('init', '--yes', '--app', 'demo', '--delivery', 'queue');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--delivery must be one of api-destination, sqs, both, got "queue"');

    const init = await run('init', '--yes', '--app', 'demo', '--delivery', 'sqs', '--trigger', 'none', '--templates', 'mp4', '--allow-simulator-source');
    expect(init.code, init.stderr).toBe(0);
    expect(config()).toMatchObject({ delivery: 'sqs' });
    expect(config().listener.url).toBeUndefined();
    expect(init.stderr).not.toContain('No listener URL yet');
  });

  it('setup --delivery sqs, then events by EventBridge and straight into the queue land there with the event as body', async () => {
    const setup = await run('setup', '--yes');
    expect(setup.code, setup.stderr).toBe(0);
    expect(setup.stdout).toMatch(/create\s+SQS queue \(events\)\s+demo-events/);
    expect(setup.stdout).toMatch(/create\s+EventBridge rule target \(SQS\)\s+demo-mediaconvert-events → demo-events/);
    expect(setup.stdout).not.toContain('API destination');
    expect(setup.stdout).toContain('vidpipe listen --pull');

    // A second setup: nothing to change, no mutating call.
    const mark = moto.recordedRequests().length;
    fake.requests.length = 0;
    const again = await run('setup', '--yes');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing was changed');
    expect(awsRequests(moto, fake).slice(mark).filter((c) => c.mutating)).toEqual([]);

    const status = await run('status');
    expect(status.code, status.stdout).toBe(0);
    expect(status.stdout).toMatch(/ok\s+SQS queue \(events\)\s+demo-events\s+depth: 0; in flight: 0/);

    // Through the bus: moto matches the rule and delivers to the queue target, as EventBridge would.
    const viaBus = await run('simulate-complete', '--via', 'eventbridge', '--job-id', 'job-bus-1', '--post', 'post-1', '--json');
    expect(viaBus.code, viaBus.stderr).toBe(0);
    // Straight into the queue: --via sqs finds the queue by name.
    const viaQueue = await run('simulate-complete', '--via', 'sqs', '--job-id', 'job-sqs-1', '--status', 'ERROR', '--json');
    expect(viaQueue.code, viaQueue.stderr).toBe(0);
    const sent = JSON.parse(viaQueue.stdout);
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'demo-events' }));
    expect(sent).toMatchObject({ via: 'sqs', queueUrl: QueueUrl, jobIds: ['job-sqs-1'], sendMessageBatchCalls: 1 });

    const messages = await peek(QueueUrl!, 2);
    const bodies = messages.map((m) => JSON.parse(m.Body!));
    const bus = bodies.find((b) => b.detail.jobId === 'job-bus-1');
    // EventBridge's own envelope (its id, time, region; moto 5.2 leaves out `account`) around the simulated detail.
    expect(bus).toMatchObject({
      'detail-type': 'MediaConvert Job State Change',
      source: 'vidpipe.simulator',
      region: MOTO_REGION,
      detail: { jobId: 'job-bus-1', status: 'COMPLETE', userMetadata: { postId: 'post-1' } },
    });
    const direct = bodies.find((b) => b.detail.jobId === 'job-sqs-1');
    // The whole envelope, as the rule's target would receive it: MediaConvert's source, the id simulate reported.
    expect(direct).toMatchObject({ 'detail-type': 'MediaConvert Job State Change', source: 'aws.mediaconvert', id: sent.entries[0].eventId, detail: { status: 'ERROR' } });
    expect(messages.find((m) => JSON.parse(m.Body!).detail.jobId === 'job-sqs-1')!.MessageId).toBe(sent.entries[0].messageId);
    expect(bodies).toHaveLength(2);

    // --queue-url overrides; a queue that is not there exits 4 naming it.
    const other = await sqs.send(new CreateQueueCommand({ QueueName: 'elsewhere' }));
    expect((await run('simulate-complete', '--via', 'sqs', '--queue-url', other.QueueUrl!)).code).toBe(0);
    expect(await peek(other.QueueUrl!, 1)).toHaveLength(1);
    const missing = await run('simulate-complete', '--via', 'sqs', '--queue-url', `${moto.endpoint}/${MOTO_ACCOUNT}/nope`);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/The event queue .*nope does not exist/);
    expect(missing.stderr).toContain('--queue-url');
    const wrongFlag = await run('simulate-complete', '--via', 'eventbridge', '--queue-url', other.QueueUrl!);
    expect(wrongFlag.code).toBe(2);
    expect(wrongFlag.stderr).toContain('--queue-url is for --via sqs');
  }, 60_000);

  it('doctor checks the queue, its policy, redrive and target; a policy edited behind its back fails there and setup repairs it', async () => {
    const ok = await run('doctor', '--json');
    const doc = JSON.parse(ok.stdout);
    const byId = Object.fromEntries(doc.checks.map((c: { id: string; status: string }) => [c.id, c.status]));
    expect(byId).toMatchObject({
      'event-queue': 'ok',
      'event-queue-policy': 'ok',
      'event-queue-redrive': 'ok',
      'queue-target': 'ok',
      'event-queue-depth': 'ok',
      // API destination delivery is not wanted in SQS delivery.
      connection: 'skip',
      'api-destination': 'skip',
      'rule-target': 'skip',
    });
    expect(byId['api-destination-url']).toBeUndefined();
    // Only the listener is down (nothing runs `vidpipe listen --pull` here).
    expect(doc.checks.filter((c: { status: string }) => c.status === 'fail').map((c: { id: string }) => c.id)).toEqual(['listener-ready']);
    expect(doc.checks.find((c: { id: string }) => c.id === 'listener-ready').fix).toContain('vidpipe listen --pull');

    // Someone widened the policy to another rule: status drifted, doctor names the missing aws:SourceArn.
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'demo-events' }));
    const otherRule = `arn:aws:events:${MOTO_REGION}:${MOTO_ACCOUNT}:rule/someone-else`;
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: '*', Condition: { ArnEquals: { 'aws:SourceArn': otherRule } } }],
    };
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: JSON.stringify(policy), RedrivePolicy: '', SqsManagedSseEnabled: 'true', VisibilityTimeout: '60', MessageRetentionPeriod: '345600', ReceiveMessageWaitTimeSeconds: '20' } }));
    const drifted = await run('status');
    expect(drifted.code).toBe(4);
    expect(drifted.stdout).toMatch(/drifted\s+SQS queue \(events\)\s+demo-events\s+Policy\.Statement\[0\]\.Condition\.ArnEquals\.aws:SourceArn: \S+:rule\/someone-else → \S+:rule\/demo-mediaconver.*; .*no redrive policy to the dead-letter queue/);
    const broken = await run('doctor', '--json');
    expect(broken.code).toBe(4);
    const checks = JSON.parse(broken.stdout).checks as { id: string; status: string; saw: string }[];
    expect(checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['event-queue', 'event-queue-policy', 'event-queue-redrive', 'listener-ready']);
    expect(checks.find((c) => c.id === 'event-queue-policy')!.saw).toContain(`aws:SourceArn arn:aws:events:${MOTO_REGION}:${MOTO_ACCOUNT}:rule/demo-mediaconvert-events`);
    expect(checks.find((c) => c.id === 'event-queue-redrive')!.saw).toContain('no redrive policy');

    const repair = await run('setup', '--yes');
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stdout).toMatch(/update\s+SQS queue \(events\)\s+demo-events/);
    expect((await run('status')).code).toBe(0);
  }, 60_000);

  it('doctor --trace in SQS delivery: an event that never reaches the listener points at the puller', async () => {
    // A listener that answers (its read API says 404 for the trace's job): nothing pulls the queue into it.
    const listener = await spawnListen(['--db', path.join(dir, 'trace.db')], { cwd: dir, env: { HOME: dir } });
    try {
      const traced = await run('doctor', '--trace', '--timeout', '2', '--listener-url', listener.url, '--json');
      expect(traced.code).toBe(4);
      const doc = JSON.parse(traced.stdout);
      expect(doc.checks.filter((c: { status: string }) => c.status === 'fail')).toEqual([]);
      expect(doc.trace).toMatchObject({ ok: false, lastSeen: 'PutEvents (accepted by EventBridge)' });
      expect(doc.trace.fix).toContain('the event may be waiting in the queue demo-events: is `vidpipe listen --pull` running');
    } finally {
      listener.child.kill('SIGTERM');
      await listener.exited;
    }
  }, 60_000);

  it('a message no puller deletes moves to the dead-letter queue after 5 receives, where `vidpipe dlq list` shows it', async () => {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'demo-events' }));
    const poison = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'not an event' }));
    // A puller that cannot use it never deletes it: each receive counts, and visibility 0 gives it straight back
    // (WaitTimeSeconds 0: the queue's own default is a 20 s long poll).
    let receives = 0;
    for (let round = 0; round < 12; round++) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
      const mine = (out.Messages ?? []).find((m) => m.MessageId === poison.MessageId);
      if (mine) receives = Number(mine.Attributes!.ApproximateReceiveCount);
      else if (receives > 0) break;
    }
    expect(receives).toBe(5);
    const list = await run('dlq', 'list', '--json');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(poison.MessageId!);
  }, 60_000);

  it('a backlog in the queue is a warning: is a puller running?', async () => {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'demo-events' }));
    const load = await run('simulate-complete', '--via', 'sqs', '--count', '100', '--json');
    expect(load.code, load.stderr).toBe(0);
    const depth = Number((await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes!.ApproximateNumberOfMessages);
    expect(depth).toBeGreaterThanOrEqual(100);
    const doc = JSON.parse((await run('doctor', '--json')).stdout);
    const backlog = doc.checks.find((c: { id: string }) => c.id === 'event-queue-depth');
    expect(backlog).toMatchObject({ status: 'warn' });
    expect(backlog.saw).toContain('is a puller running?');
    expect(backlog.fix).toContain('vidpipe listen --pull');
  });

  it('setup --delivery switches modes (saved only once applied) and teardown removes the queue', async () => {
    // both needs a listener URL: refused before any AWS call, the config unchanged.
    const mark = moto.recordedRequests().length;
    const noUrl = await run('setup', '--yes', '--delivery', 'both');
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain('listener.url');
    expect(moto.recordedRequests().length).toBe(mark);
    expect(config().delivery).toBe('sqs');
    const bad = await run('setup', '--delivery', 'webhook');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--delivery must be one of api-destination, sqs, both');

    // Give it a URL; --plan shows the switch and saves nothing.
    const init = await run('init', '--yes', '--force', '--app', 'demo', '--delivery', 'sqs', '--trigger', 'none', '--templates', 'mp4', '--allow-simulator-source', '--listener-url', LISTENER_URL);
    expect(init.code).toBe(0);
    const plan = await run('setup', '--plan', '--delivery', 'api-destination');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/delete\s+SQS queue \(events\)\s+demo-events/);
    expect(plan.stdout).toMatch(/create\s+EventBridge API destination\s+demo-listener/);
    // The backlog from the test above would go with the queue: the plan says so first.
    expect(plan.stdout).toMatch(/note: the event queue demo-events still holds \d+ event\(s\): they are deleted with it/);
    expect(config().delivery).toBe('sqs');

    const both = await run('setup', '--yes', '--delivery', 'both');
    expect(both.code, both.stderr).toBe(0);
    expect(config().delivery).toBe('both');
    expect(both.stdout).toMatch(/create\s+EventBridge API destination\s+demo-listener/);
    expect(both.stdout).toMatch(/unchanged\s+SQS queue \(events\)/);
    expect((await run('status')).code).toBe(0);

    const teardown = await run('teardown', '--yes');
    expect(teardown.code, teardown.stderr).toBe(0);
    expect(teardown.stdout).toMatch(/delete\s+SQS queue \(events\)\s+demo-events/);
    expect(teardown.stdout).toMatch(/delete\s+EventBridge rule target \(SQS\)/);
    await expect(sqs.send(new GetQueueUrlCommand({ QueueName: 'demo-events' }))).rejects.toThrow();
    const after = JSON.parse((await run('status', '--json')).stdout);
    expect(after.resources.filter((r: { status: string; kind: string }) => r.status !== 'missing' && r.kind !== 'S3 bucket')).toEqual([]);
  }, 60_000);
});

/**
 * `simulate-complete --via eventbridge` (built CLI) against moto: a rule matching the simulator's custom source, with
 * an SQS target, receives the events. (Failed-entry reporting is in test/unit/simulate-eventbridge-mock.test.ts:
 * moto accepts the `aws.*` sources AWS refuses.)
 */
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { MOTO_ACCOUNT, motoAvailable, startMoto, type Moto } from '../helpers/moto.js';
import { runCli } from '../helpers/cli.js';

/**
 * The whole event, as AWS delivers it to an SQS target without a transformer. Said explicitly because of a moto cost:
 * without one, moto fills its default template by compiling 8 JSONPath parsers (ply yacc) per delivered event,
 * ~0.1 s of CPU each time (moto 5.2, events/utils.py EventTemplateParser) — 25 events took 22-24 s of the 30 s test
 * timeout on a loaded 2-core machine. One path (required: an empty map means the default) costs an eighth of that.
 */
const WHOLE_EVENT = { InputPathsMap: { id: '$.id' }, InputTemplate: '<aws.events.event.json>' };

describe.runIf(motoAvailable())('simulate-complete --via eventbridge (moto)', () => {
  let moto: Moto;
  let sqs: SQSClient;
  let events: EventBridgeClient;
  let queueUrl: string;

  beforeAll(async () => {
    moto = await startMoto({ record: true });
    const config = { endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
    sqs = new SQSClient(config);
    events = new EventBridgeClient(config);
  });
  afterAll(async () => {
    sqs?.destroy();
    events?.destroy();
    await moto?.stop();
  });

  beforeEach(async () => {
    await moto.reset();
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'sim-target' }))).QueueUrl!;
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
    await events.send(
      new PutRuleCommand({
        Name: 'vidpipe-sim',
        EventPattern: JSON.stringify({ source: ['aws.mediaconvert', 'vidpipe.simulator'], 'detail-type': ['MediaConvert Job State Change'] }),
      }),
    );
    await events.send(new PutTargetsCommand({ Rule: 'vidpipe-sim', Targets: [{ Id: 'queue', Arn: Attributes!.QueueArn!, InputTransformer: WHOLE_EVENT }] }));
  });

  async function receiveAll(expected: number): Promise<Record<string, any>[]> {
    const messages: Message[] = [];
    for (let i = 0; i < 20 && messages.length < expected; i++) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      messages.push(...(out.Messages ?? []));
    }
    return messages.map((m) => JSON.parse(m.Body!));
  }

  const freshDir = () => mkdtempSync(path.join(tmpdir(), 'vidpipe-sim-eb-'));

  it('the rule delivers the event with the custom source and the right detail; the CLI prints the entry ids', async () => {
    const run = await runCli(['simulate-complete', '--via', 'eventbridge', '--job-id', '1700000000000-abcdef', '--post', '42', '--json'], {
      cwd: freshDir(),
      env: moto.env,
    });
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc).toMatchObject({ via: 'eventbridge', source: 'vidpipe.simulator', putEventsCalls: 1, entries: [{ jobId: '1700000000000-abcdef', status: 'COMPLETE' }] });
    expect(doc.entries[0].eventId).toMatch(/\S+/);
    expect(run.stderr).toMatch(/allowSimulatorSource/);

    const message = (await receiveAll(1))[0]!;
    expect(message).toMatchObject({
      source: 'vidpipe.simulator',
      'detail-type': 'MediaConvert Job State Change',
      account: MOTO_ACCOUNT,
      region: 'us-east-1',
      resources: [`arn:aws:mediaconvert:us-east-1:${MOTO_ACCOUNT}:jobs/1700000000000-abcdef`],
      detail: {
        jobId: '1700000000000-abcdef',
        status: 'COMPLETE',
        accountId: MOTO_ACCOUNT,
        queue: `arn:aws:mediaconvert:us-east-1:${MOTO_ACCOUNT}:queues/Default`,
        userMetadata: { postId: '42' },
      },
    });
    // EventBridge's envelope id is the EventId PutEvents answered, which the CLI prints.
    expect(message.id).toBe(doc.entries[0].eventId);
    expect(message.detail.outputGroupDetails.map((g: { type: string }) => g.type)).toEqual(['FILE_GROUP', 'HLS_GROUP', 'FILE_GROUP']);
  });

  it('--count 25 goes in PutEvents batches of at most 10 entries, every event delivered', async () => {
    const before = moto.recordedRequests().length;
    const run = await runCli(['simulate-complete', '--via', 'eventbridge', '--count', '25', '--status', 'ERROR', '--json'], { cwd: freshDir(), env: moto.env });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ putEventsCalls: 3 });
    const puts = moto.recordedRequests().slice(before).filter((r) => r.target === 'AWSEvents.PutEvents');
    expect(puts).toHaveLength(3);
    const received = await receiveAll(25);
    expect(received).toHaveLength(25);
    expect(new Set(received.map((m) => m.detail.jobId)).size).toBe(25);
    expect(received.every((m) => m.detail.status === 'ERROR' && m.detail.errorCode === 1010)).toBe(true);
  });

  it('the configured simulatorSource is used, and no warning when the rule is told to match it', async () => {
    const dir = freshDir();
    // PutRule on an existing rule replaces its pattern and keeps its target.
    await events.send(
      new PutRuleCommand({ Name: 'vidpipe-sim', EventPattern: JSON.stringify({ source: ['demo.sim'], 'detail-type': ['MediaConvert Job State Change'] }) }),
    );
    writeFileSync(path.join(dir, 'vidpipe.config.json'), JSON.stringify({ ...defaultConfig('demo'), simulatorSource: 'demo.sim', allowSimulatorSource: true }));
    const run = await runCli(['simulate-complete', '--via', 'eventbridge', '--sequence', '--verbose'], { cwd: dir, env: moto.env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/warning/);
    // --verbose names each AWS call: the account, then one PutEvents for the 7 events.
    expect(run.stderr.match(/^aws \S+ \S+$/gm)).toEqual(['aws sts GetCallerIdentity', 'aws eventbridge PutEvents']);
    expect(run.stdout.trim().split('\n')).toHaveLength(7);
    const received = await receiveAll(7);
    expect(received.map((m) => m.source)).toEqual(Array(7).fill('demo.sim'));
  });

  it('refuses an aws.* source up front (exit 2), explaining NotAuthorizedForSourceException; no PutEvents made', async () => {
    const before = moto.recordedRequests().length;
    const run = await runCli(['simulate-complete', '--via', 'eventbridge', '--source', 'aws.mediaconvert'], { cwd: freshDir(), env: moto.env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/reserved for AWS services.*NotAuthorizedForSourceException/);
    expect(run.stderr).toMatch(/hint: Use a custom source such as vidpipe\.simulator/);
    expect(moto.recordedRequests().slice(before)).toHaveLength(0);
  });
});

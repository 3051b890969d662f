/**
 * `vidpipe dlq list | show | redrive` against the DLQ setup creates on moto and the real listener. moto never
 * dead-letters anything itself (it does not exercise retry policies or DLQs), so the test writes messages as
 * EventBridge does: the event as the body, RULE_ARN / TARGET_ARN / ERROR_CODE / ERROR_MESSAGE as message attributes
 * (eventbridge/latest/userguide/eb-rule-dlq.html).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GetQueueUrlCommand, PurgeQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { defaultConfig, type VidpipeConfig } from '../../src/config/config.js';
import { writeSecrets } from '../../src/config/secrets.js';
import { builtCliAvailable, runCli } from '../helpers/cli.js';
import { makeEvent, startTestListener, TEST_KEY } from '../helpers/listener.js';
import { startMediaConvertFake, type MediaConvertFake } from '../helpers/mediaconvert-fake.js';
import { MOTO_ACCOUNT, MOTO_REGION, motoAvailable, startMoto, type Moto } from '../helpers/moto.js';

const RULE_ARN = `arn:aws:events:${MOTO_REGION}:${MOTO_ACCOUNT}:rule/dlqapp-mediaconvert-events`;
const TARGET_ARN = `arn:aws:events:${MOTO_REGION}:${MOTO_ACCOUNT}:api-destination/dlqapp-listener/0a1b2c3d`;

describe.runIf(motoAvailable() && builtCliAvailable())('vidpipe dlq (built CLI, moto, real listener)', () => {
  let moto: Moto;
  let fake: MediaConvertFake;
  let listener: Awaited<ReturnType<typeof startTestListener>>;
  let dir: string;
  let env: Record<string, string>;
  let sqs: SQSClient;
  let queueUrl: string;
  const run = (...args: string[]) => runCli(args, { cwd: dir, env: { HOME: dir, ...env } });

  async function deadLetter(body: unknown, code: string, message: string, sentBy = RULE_ARN) {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
        MessageAttributes: {
          RULE_ARN: { DataType: 'String', StringValue: sentBy },
          TARGET_ARN: { DataType: 'String', StringValue: TARGET_ARN },
          ERROR_CODE: { DataType: 'String', StringValue: code },
          ERROR_MESSAGE: { DataType: 'String', StringValue: message },
          EXHAUSTED_RETRY_CONDITION: { DataType: 'String', StringValue: 'MaximumRetryAttempts' },
          RETRY_ATTEMPTS: { DataType: 'String', StringValue: '185' },
        },
      }),
    );
  }

  /** Every message still in the queue (read with visibility 0, so this changes nothing). */
  async function remaining(): Promise<string[]> {
    const bodies = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
      for (const m of out.Messages ?? []) bodies.add(m.Body!);
    }
    return [...bodies];
  }

  beforeAll(async () => {
    [moto, fake, listener] = await Promise.all([startMoto(), startMediaConvertFake({ region: MOTO_REGION, accountId: MOTO_ACCOUNT }), startTestListener()]);
    dir = mkdtempSync(path.join(tmpdir(), 'vidpipe-dlq-'));
    const config: VidpipeConfig = {
      ...defaultConfig('dlqapp'),
      region: MOTO_REGION,
      listener: { url: `${listener.url}/aws/listener/eventbridge/video`, auth: 'API_KEY', authHeader: 'x-api-key' },
      trigger: 'none',
      templates: [],
      allowSimulatorSource: true,
    };
    writeFileSync(path.join(dir, 'vidpipe.config.json'), JSON.stringify({ ...config, listener: { ...config.listener, url: 'https://listener.example.test/aws/listener/eventbridge/video' } }));
    writeSecrets(path.join(dir, '.vidpipe', 'secrets.json'), { apiKeys: [TEST_KEY] });
    env = { ...moto.env, ...fake.env };
    const setup = await run('setup', '--yes');
    expect(setup.code, setup.stderr).toBe(0);
    // From here on the config names the local (http) listener: redrive POSTs there as the API destination would.
    writeFileSync(path.join(dir, 'vidpipe.config.json'), JSON.stringify(config));
    sqs = new SQSClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    queueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: 'dlqapp-events-dlq' }))).QueueUrl!;
  }, 60_000);

  afterAll(async () => {
    sqs?.destroy();
    await Promise.all([moto?.stop(), fake?.close(), listener?.cleanup()]);
  });

  beforeEach(async () => {
    await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
  });

  it('list groups by ERROR_CODE/ERROR_MESSAGE/RULE_ARN/TARGET_ARN with counts, oldest and newest, and changes nothing; show prints one with its event', async () => {
    for (let i = 0; i < 3; i++) await deadLetter(makeEvent('complete-file-group'), 'SDK_CLIENT_ERROR', 'Unable to invoke ApiDestination endpoint: The request failed because the endpoint returned 401');
    await deadLetter(makeEvent('error'), 'TIMEOUT', 'Unable to invoke ApiDestination endpoint: timeout');

    const list = await run('dlq', 'list', '--json');
    expect(list.code, list.stderr).toBe(0);
    const doc = JSON.parse(list.stdout);
    expect(doc.messages).toBe(4);
    expect(doc.groups.map((g: { errorCode: string; count: number }) => [g.errorCode, g.count])).toEqual([
      ['SDK_CLIENT_ERROR', 3],
      ['TIMEOUT', 1],
    ]);
    expect(doc.groups[0]).toMatchObject({ ruleArn: RULE_ARN, targetArn: TARGET_ARN, errorMessage: expect.stringContaining('401') });
    expect(Date.parse(doc.groups[0].oldest)).toBeLessThanOrEqual(Date.parse(doc.groups[0].newest));
    // Nothing taken: every message is visible again at once.
    expect(await remaining()).toHaveLength(4);

    const text = await run('dlq', 'list');
    expect(text.stdout).toMatch(/3\s+SDK_CLIENT_ERROR/);
    expect(text.stdout).toMatch(/1\s+TIMEOUT/);

    const id = doc.letters.find((l: { errorCode: string }) => l.errorCode === 'TIMEOUT').messageId;
    const show = await run('dlq', 'show', id, '--json');
    expect(show.code, show.stderr).toBe(0);
    const one = JSON.parse(show.stdout);
    expect(one).toMatchObject({ messageId: id, errorCode: 'TIMEOUT', exhaustedRetryCondition: 'MaximumRetryAttempts', retryAttempts: '185', event: { detail: { status: 'ERROR' } } });
    expect(one.receiptHandle).toBeUndefined();
    const missing = await run('dlq', 'show', 'no-such-id');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('vidpipe dlq list');
  }, 60_000);

  it('redrive --dry-run sends and deletes nothing', async () => {
    const before = new Database(listener.dbPath, { readonly: true });
    const inbox = () => (before.prepare('SELECT COUNT(*) AS n FROM inbox').get() as { n: number }).n;
    const n0 = inbox();
    await deadLetter(makeEvent('complete-file-group'), 'TIMEOUT', 'timeout');
    const dry = await run('dlq', 'redrive', '--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, accepted: 0, left: 1, wouldSend: [expect.objectContaining({ errorCode: 'TIMEOUT' })] });
    expect(await remaining()).toHaveLength(1);
    expect(inbox()).toBe(n0);
    before.close();
  }, 30_000);

  it('redrive POSTs each event to the listener, deletes only the accepted ones, and keeps the rejected ones with the reason (exit 5)', async () => {
    const good = [makeEvent('complete-file-group', { postId: 'p1' }), makeEvent('error', { postId: 'p2' }), makeEvent('progressing')];
    const invalid = makeEvent('complete-file-group');
    delete invalid.detail.jobId;
    for (const e of good) await deadLetter(e, 'SDK_CLIENT_ERROR', 'endpoint returned 401');
    await deadLetter(invalid, 'SDK_CLIENT_ERROR', 'endpoint returned 400');
    await deadLetter('not json at all', 'SDK_CLIENT_ERROR', 'endpoint returned 400');

    const res = await run('dlq', 'redrive', '--json');
    expect(res.code, res.stderr).toBe(5);
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({ via: 'http', accepted: 3, byOutcome: { processed: 3 }, left: 2 });
    expect(doc.rejected).toHaveLength(2);
    expect(doc.rejected.map((r: { reason: string }) => r.reason).sort()).toEqual([expect.stringMatching(/^HTTP 400 bad_request: .*jobId/), 'the message body is not a JSON event'].sort());
    expect(res.stderr).toContain('stay in dlqapp-events-dlq');
    // The rejected two are still there; the accepted three are stored by the listener under their own ids.
    const left = await remaining();
    expect(left).toHaveLength(2);
    expect(left).toContain('not json at all');
    for (const e of good) expect((await fetch(`${listener.url}/api/videos/${e.detail.jobId}`, { headers: { 'x-api-key': TEST_KEY } })).status).toBe(200);

    // A second redrive of an event the listener already has: accepted as a duplicate (same event id), stored once.
    await deadLetter(good[0], 'SDK_CLIENT_ERROR', 'endpoint returned 401');
    const again = await run('dlq', 'redrive', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ accepted: 1, byOutcome: { duplicate: 1 } });
  }, 60_000);

  it('a listener that refuses the key: nothing is deleted and the reason is the 401', async () => {
    await deadLetter(makeEvent('complete-file-group'), 'SDK_CLIENT_ERROR', 'endpoint returned 401');
    const res = await runCli(['dlq', 'redrive'], { cwd: dir, env: { HOME: dir, ...env, VIDPIPE_API_KEY: 'wrong-key' } });
    expect(res.code).toBe(5);
    expect(res.stdout).toMatch(/accepted\s+0/);
    expect(res.stdout).toMatch(/HTTP 401 unauthorized: credentials not accepted/);
    expect(await remaining()).toHaveLength(1);
  }, 30_000);

  it('an unreachable listener stops the redrive and leaves every message', async () => {
    for (let i = 0; i < 3; i++) await deadLetter(makeEvent('complete-file-group'), 'TIMEOUT', 'timeout');
    const res = await run('dlq', 'redrive', '--to', 'http://127.0.0.1:9/aws/listener/eventbridge/video', '--json');
    expect(res.code).toBe(5);
    expect(JSON.parse(res.stdout)).toMatchObject({ accepted: 0, left: 3, stopped: expect.stringContaining('connection refused') });
    expect(await remaining()).toHaveLength(3);
  }, 30_000);

  it('--via eventbridge puts each event back on the default bus with the simulator source and deletes it once PutEvents accepted it', async () => {
    await deadLetter(makeEvent('complete-file-group'), 'TIMEOUT', 'timeout');
    const res = await run('dlq', 'redrive', '--via', 'eventbridge', '--json');
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ via: 'eventbridge', accepted: 1, byOutcome: { put: 1 }, left: 0 });
    expect(await remaining()).toHaveLength(0);
  }, 30_000);
});

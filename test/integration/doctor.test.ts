/**
 * `vidpipe doctor` against a pipeline set up on moto (MediaConvert on the fake), with the real listener behind a real
 * local HTTPS proxy (a self-signed certificate the child trusts through NODE_EXTRA_CA_CERTS, as a publicly trusted one
 * would be): all ok first, then each hop broken on its own — rule disabled, notification removed, the target role
 * missing its permission, the listener refusing the key (401), the connection deauthorized — and doctor names it.
 * Setup, repairs and doctor run as the built CLI (one test runs doctor in-process to stand in for what moto cannot do).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudWatchClient, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DisableRuleCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { PutBucketNotificationConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, PurgeQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createAwsContext, type AwsContext } from '../../src/aws/context.js';
import { defaultConfig, type VidpipeConfig } from '../../src/config/config.js';
import { writeSecrets } from '../../src/config/secrets.js';
import { runDoctor } from '../../src/doctor/doctor.js';
import { RESOURCES } from '../../src/provision/resources/index.js';
import { builtCliAvailable, runCli } from '../helpers/cli.js';
import { startRelay } from '../helpers/eventbridge-relay.js';
import { startTestListener, TEST_KEY } from '../helpers/listener.js';
import { startMediaConvertFake, type MediaConvertFake } from '../helpers/mediaconvert-fake.js';
import { MOTO_ACCOUNT, MOTO_REGION, motoAvailable, startMoto, type Moto } from '../helpers/moto.js';

type Check = { id: string; status: string; saw: string; fix?: string; lines?: string[] };

/** The HTTPS proxy's certificate is made with the openssl CLI: skip with a notice without it, fail under CI. */
function opensslAvailable(): boolean {
  if (spawnSync('openssl', ['version']).status === 0) return true;
  const notice = 'openssl not found (it makes the test certificate): apt-get install openssl';
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI: ${notice}`);
  console.warn(`[skip] ${notice}`);
  return false;
}

describe.runIf(motoAvailable() && builtCliAvailable() && opensslAvailable())('vidpipe doctor (built CLI, moto, MediaConvert fake, real listener behind HTTPS)', () => {
  let moto: Moto;
  let fake: MediaConvertFake;
  let listener: Awaited<ReturnType<typeof startTestListener>>;
  let proxy: Server;
  let dir: string;
  let env: Record<string, string>;
  let aws: AwsContext;
  let config: VidpipeConfig;
  const client = () => ({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const configPath = () => path.join(dir, 'vidpipe.config.json');

  /** Setup (and each repair) through the built CLI: the Lambda bundle it builds is the one its doctor compares with. */
  async function setup() {
    const res = await runCli(['setup', '--yes'], { cwd: dir, env: { HOME: dir, ...env } });
    expect(res.code, res.stderr).toBe(0);
  }

  async function doctor(...args: string[]): Promise<{ code: number | null; doc: { checks: Check[]; exitCode: number; trace?: any }; stderr: string; stdout: string }> {
    const res = await runCli(['doctor', '--json', ...args], { cwd: dir, env: { HOME: dir, ...env } });
    return { code: res.code, doc: JSON.parse(res.stdout), stderr: res.stderr, stdout: res.stdout };
  }
  const check = (doc: { checks: Check[] }, id: string) => doc.checks.find((c) => c.id === id);

  beforeAll(async () => {
    [moto, fake, listener] = await Promise.all([startMoto(), startMediaConvertFake({ region: MOTO_REGION, accountId: MOTO_ACCOUNT }), startTestListener()]);
    Object.assign(process.env, moto.env, fake.env);
    dir = mkdtempSync(path.join(tmpdir(), 'vidpipe-doctor-'));
    // A TLS-terminating proxy in front of the listener, as README's AWS setup describes.
    const gen = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')]);
    expect(gen.status, String(gen.stderr)).toBe(0);
    const target = new URL(listener.url);
    proxy = createHttpsServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) }, (req, res) => {
      const upstream = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.writeHead(502).end());
      req.pipe(upstream);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const port = (proxy.address() as { port: number }).port;
    config = {
      ...defaultConfig('doc'),
      region: MOTO_REGION,
      listener: { url: `https://localhost:${port}/aws/listener/eventbridge/video`, auth: 'API_KEY', authHeader: 'x-api-key' },
      templates: ['mp4'],
      statuses: ['COMPLETE', 'ERROR', 'STATUS_UPDATE'],
      allowSimulatorSource: true,
    };
    writeFileSync(configPath(), JSON.stringify(config, null, 2));
    // The key the listener accepts is the one setup gives the connection.
    writeSecrets(path.join(dir, '.vidpipe', 'secrets.json'), { apiKeys: [TEST_KEY] });
    env = { ...moto.env, ...fake.env, NODE_EXTRA_CA_CERTS: path.join(dir, 'cert.pem') };
    aws = createAwsContext({ region: MOTO_REGION });
    await setup();
  }, 60_000);

  afterAll(async () => {
    aws?.destroy();
    await new Promise((r) => (proxy ? proxy.close(r) : r(undefined)));
    await Promise.all([moto?.stop(), fake?.close(), listener?.cleanup()]);
  });

  it('passes every hop of a healthy pipeline, says the rule was checked with its own matcher (moto answers TestEventPattern with nothing), exit 0', async () => {
    const { code, doc, stderr } = await doctor();
    expect(doc.checks.filter((c) => c.status === 'fail'), stderr).toEqual([]);
    expect(code).toBe(0);
    const ids = doc.checks.map((c) => c.id);
    // In the order an event travels.
    const order = ['credentials', 'input-bucket', 'bucket-notification', 'lambda-permission', 'lambda-function', 'lambda-errors', 'job-role', 'rule', 'rule-matches-sample', 'connection', 'api-destination', 'api-destination-url', 'invoke-role', 'rule-target', 'dead-letter-queue', 'alarms', 'dlq-depth', 'listener-ready', 'listener-auth'];
    expect(order.map((id) => ids.indexOf(id))).toEqual(order.map((id) => ids.indexOf(id)).sort((a, b) => a - b));
    expect(order.filter((id) => !ids.includes(id))).toEqual([]);
    expect(check(doc, 'credentials')!.saw).toContain(`account ${MOTO_ACCOUNT}`);
    expect(check(doc, 'credentials')!.saw).toContain(moto.endpoint);
    expect(check(doc, 'rule-matches-sample')).toMatchObject({ status: 'ok' });
    expect(check(doc, 'rule-matches-sample')!.saw).toContain("vidpipe's own matcher");
    expect(check(doc, 'api-destination-url')!.saw).toMatch(/answered HTTP \d+/);
    expect(check(doc, 'listener-auth')).toMatchObject({ status: 'ok' });
  }, 60_000);

  it('the text output prints ok/warn/fail per hop on stdout', async () => {
    const res = await runCli(['doctor'], { cwd: dir, env: { HOME: dir, ...env } });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/EventBridge rule\n\s+ok\s+EventBridge rule: doc-mediaconvert-events, state: ENABLED/);
    expect(res.stdout).toMatch(/0 failed/);
  }, 30_000);

  it('names a disabled rule (exit 4) with the fix', async () => {
    const eb = new EventBridgeClient(client());
    await eb.send(new DisableRuleCommand({ Name: 'doc-mediaconvert-events' }));
    const { code, doc } = await doctor();
    expect(code).toBe(4);
    expect(check(doc, 'rule')).toMatchObject({ status: 'fail' });
    expect(check(doc, 'rule')!.saw).toContain('State: DISABLED → ENABLED');
    expect(check(doc, 'rule')!.fix).toContain('vidpipe setup');
    expect(doc.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['rule']);
    eb.destroy();
    await setup();
  }, 60_000);

  it('names a removed S3 notification', async () => {
    const s3 = new S3Client({ ...client(), forcePathStyle: true });
    await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: 'doc-input', NotificationConfiguration: {} }));
    const { code, doc } = await doctor();
    expect(code).toBe(4);
    expect(doc.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['bucket-notification']);
    expect(check(doc, 'bucket-notification')!.saw).toContain('does not exist');
    s3.destroy();
    await setup();
  }, 60_000);

  it('names the target role missing events:InvokeApiDestination', async () => {
    const iam = new IAMClient(client());
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'doc-eventbridge-invoke',
        PolicyName: 'vidpipe',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: '*' }] }),
      }),
    );
    const { code, doc } = await doctor();
    expect(code).toBe(4);
    expect(doc.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['invoke-role']);
    expect(check(doc, 'invoke-role')!.saw).toMatch(/does not allow events:InvokeApiDestination on arn:aws:events:us-east-1:123456789012:api-destination\/doc-listener/);
    iam.destroy();
    await setup();
  }, 60_000);

  it('names a listener that answers 401 to the configured key', async () => {
    const secrets = path.join(dir, '.vidpipe', 'secrets.json');
    writeSecrets(secrets, { apiKeys: ['not-the-key-the-listener-has'] });
    try {
      const { code, doc } = await doctor('--listener-url', listener.url);
      expect(code).toBe(4);
      expect(check(doc, 'listener-ready')).toMatchObject({ status: 'ok' });
      expect(check(doc, 'listener-auth')).toMatchObject({ status: 'fail' });
      expect(check(doc, 'listener-auth')!.saw).toContain('401');
      expect(check(doc, 'listener-auth')!.fix).toContain('secrets.json');
    } finally {
      writeSecrets(secrets, { apiKeys: [TEST_KEY] });
    }
    // The connection now holds another key than the local file: setup's drift marker sees it; restore both.
    await setup();
  }, 60_000);

  it('names a deauthorized connection (moto cannot deauthorize one: its observed state is replaced in-process)', async () => {
    const modules = RESOURCES.map((m) =>
      m.id === 'connection' ? { ...m, observe: async (...a: Parameters<typeof m.observe>) => ({ ...(await m.observe(...a)), state: 'DEAUTHORIZED' }) } : m,
    );
    const report = await runDoctor({ config, configPath: configPath(), aws, modules, listenerUrl: new URL(listener.url) });
    const connection = report.checks.find((c) => c.id === 'connection')!;
    expect(connection.status).toBe('fail');
    expect(connection.saw).toContain('DEAUTHORIZED');
    expect(connection.fix).toContain('--rotate-key');
    expect(report.exitCode).toBe(4);
  }, 30_000);

  it('a read AWS denies (moto never enforces IAM: the denial is injected in-process) fails that check as a permission problem, exit 3, and the others still run', async () => {
    const { AwsAccessError } = await import('../../src/errors.js');
    const modules = RESOURCES.map((m) =>
      m.id === 'rule-target'
        ? {
            ...m,
            observe: async () => {
              throw new AwsAccessError('AWS_ACCESS_DENIED', 'AWS denied events:ListTargetsByRule on doc-mediaconvert-events.', { hint: 'Allow events:ListTargetsByRule for your identity' });
            },
          }
        : m,
    );
    const report = await runDoctor({ config, configPath: configPath(), aws, modules, listenerUrl: new URL(listener.url) });
    const target = report.checks.find((c) => c.id === 'rule-target')!;
    expect(target).toMatchObject({ status: 'fail', access: true });
    expect(target.saw).toContain('events:ListTargetsByRule');
    expect(report.exitCode).toBe(3);
    expect(report.checks.find((c) => c.id === 'listener-auth')?.status).toBe('ok');
  }, 30_000);

  it("warns with the trigger's last ERROR log lines, an alarm in ALARM naming its metric, and dead letters pointing to `vidpipe dlq`", async () => {
    const logs = new CloudWatchLogsClient(client());
    const group = '/aws/lambda/doc-upload-trigger';
    // setup creates the trigger's log group (with its retention); a test run without it creates it here.
    await logs.send(new CreateLogGroupCommand({ logGroupName: group })).catch((err: Error) => {
      if (err.name !== 'ResourceAlreadyExistsException') throw err;
    });
    await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 's1' }));
    const now = Date.now();
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: group,
        logStreamName: 's1',
        logEvents: [
          { timestamp: now - 3000, message: 'INFO started job 1' },
          { timestamp: now - 2000, message: 'ERROR vidpipe Lambda: CreateJob failed: NotFoundException: template doc-mp4 not found' },
          { timestamp: now - 1000, message: 'INFO done' },
        ],
      }),
    );
    const cw = new CloudWatchClient(client());
    await cw.send(new SetAlarmStateCommand({ AlarmName: 'doc-failed-invocations', StateValue: 'ALARM', StateReason: 'test' }));
    const sqs = new SQSClient(client());
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'doc-events-dlq' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: '{}' }));

    const { code, doc } = await doctor();
    expect(code).toBe(0);
    expect(check(doc, 'lambda-errors')).toMatchObject({ status: 'warn' });
    expect(check(doc, 'lambda-errors')!.lines!.join('\n')).toContain('CreateJob failed: NotFoundException');
    expect(check(doc, 'lambda-errors')!.lines!.join('\n')).not.toContain('INFO');
    const alarm = doc.checks.find((c) => c.id.startsWith('alarm:'))!;
    expect(alarm).toMatchObject({ status: 'warn' });
    expect(alarm.saw).toContain('AWS/Events FailedInvocations');
    expect(check(doc, 'dlq-depth')).toMatchObject({ status: 'warn' });
    expect(check(doc, 'dlq-depth')!.fix).toContain('vidpipe dlq');

    await sqs.send(new PurgeQueueCommand({ QueueUrl }));
    await cw.send(new SetAlarmStateCommand({ AlarmName: 'doc-failed-invocations', StateValue: 'OK', StateReason: 'test' }));
    [logs, cw, sqs].forEach((c) => c.destroy());
  }, 60_000);

  it('--trace follows one event from PutEvents to the listener (the API destination hop relayed: moto does not deliver it)', async () => {
    const relay = await startRelay({ endpoint: moto.endpoint, region: MOTO_REGION, rule: 'doc-mediaconvert-events', listenerUrl: listener.url, headers: { 'x-api-key': TEST_KEY } });
    try {
      const { code, doc } = await doctor('--trace', '--timeout', '20');
      expect(doc.trace, JSON.stringify(doc.trace)).toMatchObject({ ok: true, lastSeen: 'listener', source: 'vidpipe.simulator' });
      expect(doc.trace.hops.map((h: { hop: string; status: string }) => `${h.hop}:${h.status}`)).toEqual(['PutEvents:seen', 'listener:seen']);
      expect(code).toBe(0);
      // The synthetic event is not a terminal one (the rule forwards STATUS_UPDATE): the trace job does not look finished.
      expect(relay.answers.find((a) => (a.event.detail as { jobId: string }).jobId === doc.trace.jobId)?.event).toMatchObject({ detail: { status: 'STATUS_UPDATE' } });
    } finally {
      await relay.stop();
    }
  }, 60_000);

  it('--trace without delivery times out and says which hop it last saw (exit 4)', async () => {
    const { code, doc, stderr } = await doctor('--trace', '--timeout', '3');
    expect(code).toBe(4);
    expect(doc.trace).toMatchObject({ ok: false, lastSeen: 'PutEvents (accepted by EventBridge)' });
    expect(doc.trace.hops.at(-1)).toMatchObject({ hop: 'listener', status: 'not seen' });
    expect(stderr).toContain('did not reach the listener');
  }, 60_000);

  it('--trace sees the event land in the dead-letter queue and names the error EventBridge recorded', async () => {
    const sqs = new SQSClient(client());
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'doc-events-dlq' }));
    const relay = await startRelay({
      endpoint: moto.endpoint,
      region: MOTO_REGION,
      rule: 'doc-mediaconvert-events',
      listenerUrl: listener.url,
      headers: {},
      deadLetter: { queueUrl: QueueUrl!, errorCode: 'SDK_CLIENT_ERROR', errorMessage: 'Unable to invoke ApiDestination endpoint: The request failed because the endpoint returned 401' },
    });
    try {
      const { code, doc } = await doctor('--trace', '--timeout', '20');
      expect(code).toBe(4);
      expect(doc.trace).toMatchObject({ ok: false, lastSeen: 'dead-letter queue' });
      expect(doc.trace.hops.at(-1)).toMatchObject({ hop: 'dead-letter queue', status: 'failed', detail: expect.stringContaining('SDK_CLIENT_ERROR: Unable to invoke ApiDestination endpoint') });
      expect(doc.trace.fix).toContain('vidpipe dlq');
      // Peeking took nothing: the dead letter is still there for `vidpipe dlq`.
      const left = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
      expect(left.Messages?.some((m) => m.Body!.includes(doc.trace.jobId))).toBe(true);
    } finally {
      await relay.stop();
      await sqs.send(new PurgeQueueCommand({ QueueUrl }));
      sqs.destroy();
    }
  }, 60_000);

  it('exits 3 when there are no AWS credentials, and still checks the listener', async () => {
    const res = await runCli(['doctor', '--json', '--listener-url', listener.url], {
      cwd: dir,
      env: { HOME: dir, AWS_ENDPOINT_URL: moto.endpoint, AWS_REGION: MOTO_REGION, AWS_EC2_METADATA_DISABLED: 'true', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' },
    });
    expect(res.code, res.stderr).toBe(3);
    const doc = JSON.parse(res.stdout);
    expect(check(doc, 'credentials')).toMatchObject({ status: 'fail', access: true });
    expect(check(doc, 'listener-ready')).toMatchObject({ status: 'ok' });
  }, 30_000);
});

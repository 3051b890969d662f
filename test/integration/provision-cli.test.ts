/**
 * The built CLI end to end, as a user runs it: `node bin/vidpipe.js init --yes …; setup --yes; status; setup --plan;
 * teardown --yes`, against moto (AWS_ENDPOINT_URL) with MediaConvert on the fake (AWS_ENDPOINT_URL_MEDIACONVERT).
 * `npm test` builds first.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsRequests } from '../helpers/aws-calls.js';
import { runCli } from '../helpers/cli.js';
import { startMediaConvertFake, type MediaConvertFake } from '../helpers/mediaconvert-fake.js';
import { MOTO_REGION, motoAvailable, startMoto, type Moto } from '../helpers/moto.js';

const LISTENER_URL = 'https://listener.example.test/aws/listener/eventbridge/video';

// stdin is not a terminal: nothing may wait for an answer. HOME is the test's folder, so no real ~/.aws is read.
function vidpipe(args: string[], cwd: string, env: Record<string, string>) {
  return runCli(args, { cwd, env: { HOME: cwd, ...env } });
}

describe.runIf(motoAvailable())('vidpipe init / setup / status / teardown (built CLI, moto + MediaConvert fake)', () => {
  let moto: Moto;
  let fake: MediaConvertFake;
  let env: Record<string, string>;
  let dir: string;
  const run = (...args: string[]) => vidpipe(args, dir, env);

  beforeAll(async () => {
    [moto, fake] = await Promise.all([startMoto({ record: true }), startMediaConvertFake({ region: MOTO_REGION })]);
    env = { ...moto.env, ...fake.env };
    dir = mkdtempSync(path.join(tmpdir(), 'vidpipe-cli-'));
  });
  afterAll(async () => {
    await Promise.all([moto?.stop(), fake?.close()]);
  });

  it('runs the whole life cycle with the right exit codes and clean stdout', async () => {
    // init without a terminal: no prompt, flags and defaults; refuses to overwrite.
    const init = await run('init', '--yes', '--app', 'clidemo', '--listener-url', LISTENER_URL, '--auth-header', 'x-vidpipe-key', '--trigger', 'none');
    expect(init.code, init.stderr).toBe(0);
    const config = JSON.parse(readFileSync(path.join(dir, 'vidpipe.config.json'), 'utf8'));
    expect(config).toMatchObject({ app: 'clidemo', inputBucket: 'clidemo-input', listener: { url: LISTENER_URL, authHeader: 'x-vidpipe-key' }, trigger: 'none' });
    expect((await run('init', '--yes', '--app', 'other')).code).toBe(2);

    // status before setup: everything missing, exit 4, one JSON document on stdout.
    const before = await run('status', '--json');
    expect(before.code).toBe(4);
    const beforeDoc = JSON.parse(before.stdout);
    expect(beforeDoc.ok).toBe(false);
    expect(beforeDoc.resources.every((r: { status: string }) => r.status === 'missing')).toBe(true);

    // setup --plan changes nothing.
    const dry = await run('setup', '--plan');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/create\s+EventBridge rule\s+clidemo-mediaconvert-events/);
    expect(awsRequests(moto, fake).filter((c) => c.mutating)).toEqual([]);

    // setup --yes applies; the key is saved locally and never printed.
    const setup = await run('setup', '--yes', '--json');
    expect(setup.code, setup.stderr).toBe(0);
    const doc = JSON.parse(setup.stdout);
    expect(doc.results.filter((r: { outcome: string }) => r.outcome !== 'done')).toEqual([]);
    const secrets = JSON.parse(readFileSync(path.join(dir, '.vidpipe', 'secrets.json'), 'utf8'));
    expect(setup.stdout + setup.stderr).not.toContain(secrets.apiKeys[0]);

    // status: all ok, exit 0, states shown.
    const ok = await run('status');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/ok\s+EventBridge connection\s+clidemo-listener\s+state: AUTHORIZED/);
    expect(ok.stdout).toMatch(/ok\s+SQS queue \(DLQ\)\s+clidemo-events-dlq\s+depth: 0/);
    expect(ok.stdout).toMatch(/ok\s+CloudWatch alarm\s+clidemo-failed-invocations\s+state: /);

    // A second setup: no changes, no mutating call.
    const mark = moto.recordedRequests().length;
    fake.requests.length = 0;
    const again = await run('setup', '--plan', '-v');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Plan: no changes');
    expect(again.stderr).toMatch(/^aws eventbridge DescribeRule$/m);
    const second = await run('setup', '--yes');
    expect(second.stdout).toContain('nothing was changed');
    expect(awsRequests(moto, fake).slice(mark).filter((c) => c.mutating)).toEqual([]);

    // Drift made behind vidpipe's back: status exits 4 and names it; setup repairs it.
    const { EventBridgeClient, PutRuleCommand } = await import('@aws-sdk/client-eventbridge');
    const eb = new EventBridgeClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await eb.send(new PutRuleCommand({ Name: 'clidemo-mediaconvert-events', EventPattern: JSON.stringify({ source: ['somewhere.else'] }) }));
    eb.destroy();
    const drifted = await run('status');
    expect(drifted.code).toBe(4);
    // The reason names each field with the AWS value and the wanted one.
    expect(drifted.stdout).toMatch(/drifted\s+EventBridge rule\s+clidemo-mediaconvert-events\s+EventPattern\.detail: \(none\) → \{"status":\["COMPLETE","ERROR"\]\}/);
    expect(drifted.stderr).toContain('vidpipe setup');
    expect((await run('setup', '--yes')).code).toBe(0);
    expect((await run('status')).code).toBe(0);

    // policy prints a JSON document (no AWS call with --account).
    const policy = await run('policy', '--account', '111122223333');
    expect(policy.code).toBe(0);
    expect(JSON.parse(policy.stdout).Statement.map((s: { Sid: string }) => s.Sid)).toContain('PassJobRole');
    // Without credentials it asks STS for nothing it can get: exit 3, and the hint names --account.
    const noCredentials = await vidpipe(['policy'], dir, { AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', AWS_ENDPOINT_URL: moto.endpoint });
    expect(noCredentials.code).toBe(3);
    expect(noCredentials.stderr).toMatch(/AWS credentials are missing[\s\S]*hint: [\s\S]*Or pass --account ID/);

    // teardown without a terminal and without --yes refuses (exit 2), deleting nothing.
    const refused = await run('teardown');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect((await run('status')).code).toBe(0);

    const teardown = await run('teardown', '--yes', '--delete-buckets');
    expect(teardown.code, teardown.stderr).toBe(0);
    expect(fake.jobTemplateNames()).toEqual([]);
    const after = JSON.parse((await run('status', '--json')).stdout);
    expect(after.resources.filter((r: { status: string }) => r.status !== 'missing')).toEqual([]);
    const twice = await run('teardown', '--yes', '--delete-buckets');
    expect(twice.code).toBe(0);
    expect(twice.stdout).toContain('Teardown: no changes');
    // A whole life cycle: ~15 CLI processes in a row, each a node start plus AWS calls. ~9 s alone on this 2-core machine,
    // 27 s seen under a loaded full run: the 30 s default is for one step, not for this.
  }, 120_000);

  it('refuses an http:// listener URL before any AWS call, and names a bad config field', async () => {
    const other = mkdtempSync(path.join(tmpdir(), 'vidpipe-cli-'));
    const init = await vidpipe(['init', '--yes', '--app', 'plain', '--listener-url', 'http://listener.example.test/hook'], other, env);
    expect(init.code).toBe(0);
    expect(init.stderr).toContain('https');
    const mark = moto.recordedRequests().length;
    const setup = await vidpipe(['setup', '--yes'], other, env);
    expect(setup.code).toBe(2);
    expect(setup.stderr).toMatch(/listener\.url must use https:\/\//);
    expect(moto.recordedRequests().length).toBe(mark);

    const file = path.join(other, 'vidpipe.config.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), rateLimitPerSecond: 0 }));
    const bad = await vidpipe(['status'], other, env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('rateLimitPerSecond');
  });

  it('an unreachable endpoint exits 3 naming the URL', async () => {
    const other = mkdtempSync(path.join(tmpdir(), 'vidpipe-cli-'));
    await vidpipe(['init', '--yes', '--app', 'nowhere', '--listener-url', LISTENER_URL], other, env);
    const res = await vidpipe(['status', '--endpoint-url', 'http://127.0.0.1:9'], other, { ...env, AWS_ENDPOINT_URL: '', AWS_ENDPOINT_URL_MEDIACONVERT: '' });
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('http://127.0.0.1:9');
  });
});

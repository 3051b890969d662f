/**
 * Provisioning edges (issue 12, items 3 and 5) against moto + the MediaConvert fake: the RetryInvocationAttempts alarm
 * is checked by status and removed by teardown like the others; job-template tags drift is reported and repaired;
 * teardown removes the trigger's log group unless --keep-logs.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsContext, type AwsContext } from '../../src/aws/context.js';
import { defaultConfig, type VidpipeConfig } from '../../src/config/config.js';
import { changesIn } from '../../src/provision/plan.js';
import { applyObservedPlan, observeAll, planSetup, planTeardown, statusRows, type ProvisionOptions } from '../../src/provision/service.js';
import { startMediaConvertFake, type MediaConvertFake } from '../helpers/mediaconvert-fake.js';
import { MOTO_ACCOUNT, MOTO_REGION, motoAvailable, startMoto, type Moto } from '../helpers/moto.js';

describe.runIf(motoAvailable())('provisioning: alarms, template tags, log group', () => {
  let moto: Moto;
  let fake: MediaConvertFake;
  let aws: AwsContext;
  let config: VidpipeConfig;
  let options: ProvisionOptions;

  async function setup() {
    const observation = await observeAll(options);
    const plan = planSetup(observation);
    const applied = await applyObservedPlan(observation, plan, aws);
    expect(applied.failed).toEqual([]);
    return plan;
  }
  const status = async () => {
    const observation = await observeAll(options);
    return statusRows(observation, planSetup(observation));
  };

  beforeAll(async () => {
    [moto, fake] = await Promise.all([startMoto(), startMediaConvertFake({ region: MOTO_REGION, accountId: MOTO_ACCOUNT })]);
    Object.assign(process.env, moto.env, fake.env);
  });
  afterAll(async () => {
    aws?.destroy();
    await Promise.all([moto?.stop(), fake?.close()]);
  });
  beforeEach(async () => {
    await moto.reset();
    fake.reset();
    aws?.destroy();
    aws = createAwsContext({ region: MOTO_REGION });
    config = { ...defaultConfig('edge'), region: MOTO_REGION, listener: { url: 'https://l.example.test/aws/listener/eventbridge/video', auth: 'API_KEY', authHeader: 'x-api-key' } };
    options = { config, configPath: path.join(mkdtempSync(path.join(tmpdir(), 'vidpipe-edge-')), 'vidpipe.config.json'), aws };
  });

  it('the RetryInvocationAttempts alarm: created, checked by status (a deleted one is missing), removed by teardown', async () => {
    await setup();
    const cw = await aws.cloudwatch();
    const CW = await import('@aws-sdk/client-cloudwatch');
    expect((await status()).find((r) => r.resource === 'alarm:retry-attempts')).toMatchObject({ status: 'ok', name: 'edge-retry-invocation-attempts' });
    await cw.send(new CW.DeleteAlarmsCommand({ AlarmNames: ['edge-retry-invocation-attempts'] }));
    expect((await status()).find((r) => r.resource === 'alarm:retry-attempts')?.status).toBe('missing');
    await setup();
    const observation = await observeAll(options);
    await applyObservedPlan(observation, planTeardown(observation, false), aws);
    expect((await cw.send(new CW.DescribeAlarmsCommand({ AlarmNamePrefix: 'edge-' }))).MetricAlarms).toEqual([]);
  });

  it('job-template tags untagged or retagged behind vidpipe: status says drifted, setup re-tags without rewriting the template', async () => {
    await setup();
    const mc = await aws.mediaconvert();
    const M = await import('@aws-sdk/client-mediaconvert');
    const arn = (t: string) => `arn:aws:mediaconvert:${MOTO_REGION}:${MOTO_ACCOUNT}:jobTemplates/edge-${t}`;
    await mc.send(new M.UntagResourceCommand({ Arn: arn('mp4'), TagKeys: ['vidpipe:app'] }));
    await mc.send(new M.TagResourceCommand({ Arn: arn('hls'), Tags: { 'vidpipe:app': 'someone-else', team: 'video' } }));

    const rows = await status();
    expect(rows.filter((r) => r.status !== 'ok').map((r) => [r.resource, r.status, r.reason])).toEqual([
      ['job-template:mp4', 'drifted', 'tag vidpipe:app: (none) → edge'],
      ['job-template:hls', 'drifted', 'tag vidpipe:app: someone-else → edge'],
    ]);
    fake.requests.length = 0;
    await setup();
    expect(fake.requestsOf('TagResource').map((r) => r.body)).toEqual(
      expect.arrayContaining([
        { arn: arn('mp4'), tags: { 'vidpipe:app': 'edge' } },
        { arn: arn('hls'), tags: { 'vidpipe:app': 'edge' } },
      ]),
    );
    expect(fake.requestsOf('UpdateJobTemplate')).toEqual([]);
    const tags = await mc.send(new M.ListTagsForResourceCommand({ Arn: arn('hls') }));
    // The user's own tag stays.
    expect(tags.ResourceTags?.Tags).toEqual({ 'vidpipe:app': 'edge', team: 'video' });
    expect(changesIn(planSetup(await observeAll(options)))).toEqual([]);
  });

  it("teardown deletes the trigger's log group, or keeps it with --keep-logs and says so", async () => {
    await setup();
    const logs = await aws.logs();
    const L = await import('@aws-sdk/client-cloudwatch-logs');
    const groups = async () => (await logs.send(new L.DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/lambda/edge-' }))).logGroups?.map((g) => [g.logGroupName, g.retentionInDays]);
    expect(await groups()).toEqual([['/aws/lambda/edge-upload-trigger', 30]]);

    let observation = await observeAll(options);
    const keep = planTeardown(observation, false, true);
    expect(keep.steps.map((s) => s.resource)).not.toContain('lambda-log-group');
    expect(keep.notes.join('\n')).toMatch(/kept the log group \/aws\/lambda\/edge-upload-trigger \(--keep-logs\)/);
    await applyObservedPlan(observation, keep, aws);
    expect(await groups()).toEqual([['/aws/lambda/edge-upload-trigger', 30]]);

    observation = await observeAll(options);
    const all = planTeardown(observation, false);
    expect(changesIn(all).map((s) => s.resource)).toEqual(['lambda-log-group']);
    expect(all.notes.join('\n')).toMatch(/the log group \/aws\/lambda\/edge-upload-trigger and the logs in it are deleted \(pass --keep-logs/);
    await applyObservedPlan(observation, all, aws);
    expect(await groups()).toEqual([]);
  });
});

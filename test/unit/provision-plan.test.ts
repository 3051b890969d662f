/**
 * The planner and the resources' diff functions are pure: desired × observed → steps, no AWS. The executor is
 * tested with in-memory modules: order, parallelism, failure isolation.
 */
import { describe, expect, it } from 'vitest';
import type { AwsContext } from '../../src/aws/context.js';
import { defaultConfig, type VidpipeConfig } from '../../src/config/config.js';
import { applyPlan } from '../../src/provision/apply.js';
import { containsJson, eventPattern, operatorPolicy, parsePolicyDocument } from '../../src/provision/documents.js';
import { sameJson } from '../../src/util/canonical-json.js';
import { resourceNames } from '../../src/provision/names.js';
import { changesIn, planResources, type PlanInput } from '../../src/provision/plan.js';
import { apiDestination } from '../../src/provision/resources/api-destination.js';
import { connection, fingerprint } from '../../src/provision/resources/connection.js';
import { RESOURCES } from '../../src/provision/resources/index.js';
import { rule } from '../../src/provision/resources/rule.js';
import { ruleTarget } from '../../src/provision/resources/rule-target.js';
import { planNotes } from '../../src/provision/service.js';
import type { AnyResource, ProvisionEnv, ResourceModule } from '../../src/provision/types.js';

function envFor(overrides: Partial<VidpipeConfig> = {}, rotateKey = false): ProvisionEnv {
  const config: VidpipeConfig = { ...defaultConfig('demo'), listener: { url: 'https://l.example.test/hook', auth: 'API_KEY', authHeader: 'x-api-key' }, ...overrides };
  return { config, names: resourceNames(config), region: 'eu-west-1', accountId: '111122223333', secretsFile: '/nowhere/secrets.json', stateFile: '/nowhere/state.json', rotateKey };
}

/** An in-memory resource: desired is a value, diff compares it to observed. */
function fake(id: string, dependsOn: string[] = [], log: string[] = [], opts: { fail?: boolean; wanted?: boolean; delayMs?: number } = {}): ResourceModule<string, { arn: string; value: string }> {
  return {
    id,
    kind: 'fake',
    dependsOn,
    name: () => id,
    desired: () => (opts.wanted === false ? undefined : `${id}-v2`),
    observe: async () => undefined,
    diff: (d, o) => (o.value === d ? [] : [`value is ${o.value}`]),
    apply: async (_aws, d) => {
      log.push(`start ${id}`);
      await new Promise((r) => setTimeout(r, opts.delayMs ?? 5));
      if (opts.fail) throw new Error(`${id} broke`);
      log.push(`end ${id}`);
      return { arn: `arn:${id}`, value: d };
    },
    destroy: async () => {
      log.push(`start ${id}`);
      await new Promise((r) => setTimeout(r, opts.delayMs ?? 5));
      log.push(`end ${id}`);
    },
  };
}

const input = (module: AnyResource, observed: unknown, wanted = true): PlanInput => ({ module, observed, wanted });

describe('planResources', () => {
  const env = envFor();

  it('creates what is missing, updates what differs (with the reason), leaves the rest', () => {
    const plan = planResources(
      [input(fake('a'), undefined), input(fake('b'), { arn: 'arn:b', value: 'b-v1' }), input(fake('c'), { arn: 'arn:c', value: 'c-v2' })],
      env,
    );
    expect(plan.steps.map((s) => [s.resource, s.action, s.reason])).toEqual([
      ['a', 'create', 'missing'],
      ['b', 'update', 'value is b-v1'],
      ['c', 'noop', 'in sync'],
    ]);
    expect(changesIn(plan).map((s) => s.resource)).toEqual(['a', 'b']);
  });

  it('deletes what the config no longer wants, and everything present on teardown', () => {
    const setup = planResources([input(fake('gone', [], [], { wanted: false }), { arn: 'x', value: 'v' }), input(fake('never', [], [], { wanted: false }), undefined)], env);
    expect(setup.steps.map((s) => [s.resource, s.action, s.reason])).toEqual([['gone', 'delete', 'not in the config any more']]);
    const teardown = planResources([input(fake('a'), { arn: 'x', value: 'a-v2' }, false), input(fake('b'), undefined, false)], env);
    expect(teardown.steps.map((s) => [s.resource, s.action])).toEqual([['a', 'delete']]);
  });

  it('plans no change for every real resource when observed equals what apply would write', () => {
    // Observed states as the modules' own apply() returns them: a second setup must be all noop.
    const observed: Record<string, unknown> = {
      rule: { arn: 'arn:rule', pattern: eventPattern(env.config), state: 'ENABLED' },
      connection: { arn: 'arn:conn', authType: 'API_KEY', header: 'x-api-key', state: 'AUTHORIZED', sentFingerprint: 'f', localFingerprint: 'f' },
      'api-destination': { arn: 'arn:dest', url: 'https://l.example.test/hook', method: 'POST', rate: 10, connectionArn: 'arn:conn' },
      'invoke-role': { arn: 'arn:invoke' },
      'dead-letter-queue': { arn: 'arn:dlq' },
      'rule-target': { destinationArn: 'arn:dest', roleArn: 'arn:invoke', retry: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86400 }, deadLetterArn: 'arn:dlq' },
    };
    const modules = [rule, connection, apiDestination, ruleTarget] as AnyResource[];
    const inputs = [...modules.map((m) => input(m, observed[m.id])), input(fake('invoke-role'), observed['invoke-role'], false), input(fake('dead-letter-queue'), observed['dead-letter-queue'], false)];
    // The stand-ins for the role and queue only provide ARNs to the world (planned as deletes, ignored here).
    const plan = planResources(inputs, env);
    expect(plan.steps.filter((s) => modules.some((m) => m.id === s.resource)).map((s) => [s.resource, s.action, s.reason])).toEqual([
      ['rule', 'noop', 'in sync'],
      ['connection', 'noop', 'in sync'],
      ['api-destination', 'noop', 'in sync'],
      ['rule-target', 'noop', 'in sync'],
    ]);
  });

  it('notes that the Lambda trigger needs a job template', () => {
    expect(planNotes(envFor({ trigger: 'lambda', templates: [] }).config).join()).toMatch(/trigger 'lambda' needs a job template/);
    expect(planNotes(envFor({ trigger: 'lambda' }).config)).toEqual([]);
    expect(planNotes(envFor({ trigger: 'none' }).config)).toEqual([]);
  });
});

describe('resource diffs (pure)', () => {
  const env = envFor();
  const world = new Map<string, { arn?: string } | undefined>([
    ['connection', { arn: 'arn:conn' }],
    ['api-destination', { arn: 'arn:dest' }],
    ['invoke-role', { arn: 'arn:invoke' }],
    ['dead-letter-queue', { arn: 'arn:dlq' }],
  ]);

  it('rule: an edited pattern or a disabled rule is drift', () => {
    const d = rule.desired(env)!;
    expect(rule.diff(d, { arn: 'a', pattern: { source: ['aws.mediaconvert'] }, state: 'ENABLED' }, world, env)).toEqual([
      { field: 'EventPattern.detail', current: undefined, wanted: d.pattern.detail },
      { field: 'EventPattern.detail-type', current: undefined, wanted: d.pattern['detail-type'] },
    ]);
    expect(rule.diff(d, { arn: 'a', pattern: d.pattern, state: 'DISABLED' }, world, env)).toEqual([{ field: 'State', current: 'DISABLED', wanted: 'ENABLED' }]);
    // Key order in the JSON AWS returns does not matter.
    const reordered = { detail: d.pattern.detail, 'detail-type': d.pattern['detail-type'], source: d.pattern.source };
    expect(rule.diff(d, { arn: 'a', pattern: reordered, state: 'ENABLED' }, world, env)).toEqual([]);
  });

  it('api destination: URL, method, rate and connection', () => {
    const d = apiDestination.desired(env)!;
    const ok = { arn: 'arn:dest', url: 'https://l.example.test/hook', method: 'POST', rate: 10, connectionArn: 'arn:conn' };
    expect(apiDestination.diff(d, ok, world, env)).toEqual([]);
    expect(apiDestination.diff(d, { ...ok, url: 'https://evil.test/' }, world, env)).toEqual([{ field: 'InvocationEndpoint', current: 'https://evil.test/', wanted: 'https://l.example.test/hook' }]);
    expect(apiDestination.diff(d, { ...ok, rate: 300, method: 'GET' }, world, env)).toEqual([
      { field: 'HttpMethod', current: 'GET', wanted: 'POST' },
      { field: 'InvocationRateLimitPerSecond', current: 300, wanted: 10 },
    ]);
    expect(apiDestination.diff(d, ok, new Map(), env)).toEqual(['its connection is missing']);
  });

  it('connection: auth type and header from AWS, the credential from the local marker', () => {
    const d = connection.desired(env)!;
    const ok = { arn: 'arn:conn', authType: 'API_KEY', header: 'x-api-key', sentFingerprint: 'abc', localFingerprint: 'abc' };
    expect(connection.diff(d, ok, world, env)).toEqual([]);
    expect(connection.diff(d, { ...ok, authType: 'BASIC' }, world, env)).toEqual([{ field: 'AuthorizationType', current: 'BASIC', wanted: 'API_KEY' }]);
    expect(connection.diff(d, { ...ok, header: 'x-other' }, world, env)).toEqual([{ field: 'ApiKeyName', current: 'x-other', wanted: 'x-api-key' }]);
    expect(connection.diff(d, { ...ok, sentFingerprint: undefined }, world, env)).toEqual(['its credential is not known to match the local secrets file']);
    expect(connection.diff(d, { ...ok, localFingerprint: 'new' }, world, env)).toEqual(['the local credential changed']);
    expect(connection.diff(d, { ...ok, localFingerprint: undefined }, world, env)).toEqual(['no credential in the local secrets file']);
    expect(connection.diff(connection.desired(envFor({}, true))!, ok, world, env)).toEqual(['key rotation requested']);
    expect(fingerprint('API_KEY', 'k')).not.toBe(fingerprint('BASIC', 'k'));
    expect(fingerprint('API_KEY', 'k')).toMatch(/^[0-9a-f]{16}$/);
  });

  it('target: destination, role, retry policy and DLQ', () => {
    const d = ruleTarget.desired(env)!;
    const ok = { destinationArn: 'arn:dest', roleArn: 'arn:invoke', retry: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86400 }, deadLetterArn: 'arn:dlq' };
    expect(ruleTarget.diff(d, ok, world, env)).toEqual([]);
    expect(ruleTarget.diff(d, { ...ok, retry: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 } }, world, env)).toEqual([
      { field: 'RetryPolicy.MaximumRetryAttempts', current: 0, wanted: 185 },
      { field: 'RetryPolicy.MaximumEventAgeInSeconds', current: 60, wanted: 86400 },
    ]);
    expect(ruleTarget.diff(d, { ...ok, deadLetterArn: undefined }, world, env)).toEqual([{ field: 'DeadLetterConfig.Arn', current: undefined, wanted: 'arn:dlq' }]);
    expect(ruleTarget.diff(d, { ...ok, roleArn: undefined }, world, env)).toEqual([{ field: 'RoleArn', current: undefined, wanted: 'arn:invoke' }]);
    const noDlq = envFor({ deadLetterQueue: false });
    expect(ruleTarget.diff(ruleTarget.desired(noDlq)!, ok, world, noDlq)).toEqual([{ field: 'DeadLetterConfig.Arn', current: 'arn:dlq', wanted: undefined }]);
  });

  it('target: PutTargets failures reported with HTTP 200 (FailedEntryCount) are errors', async () => {
    const failing = {
      eventbridge: async () => ({ send: async () => ({ FailedEntryCount: 1, FailedEntries: [{ ErrorCode: 'ConcurrentModificationException', ErrorMessage: 'try again' }] }) }),
    } as unknown as AwsContext;
    await expect(ruleTarget.apply(failing, ruleTarget.desired(env)!, undefined, world, env)).rejects.toThrow(
      /PutTargets failed for 1 target\(s\): ConcurrentModificationException: try again/,
    );
  });

  it('every resource id is unique and every dependency exists', () => {
    const ids = RESOURCES.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of RESOURCES) for (const d of m.dependsOn) expect(ids).toContain(d);
  });
});

describe('documents', () => {
  it('the rule pattern adds the simulator source only when allowed', () => {
    expect(eventPattern({ statuses: ['COMPLETE'], allowSimulatorSource: false, simulatorSource: 'vidpipe.simulator' })).toEqual({
      source: ['aws.mediaconvert'],
      'detail-type': ['MediaConvert Job State Change'],
      detail: { status: ['COMPLETE'] },
    });
    expect(eventPattern({ statuses: ['COMPLETE'], allowSimulatorSource: true, simulatorSource: 'my.sim' }).source).toEqual(['aws.mediaconvert', 'my.sim']);
  });

  it('the operator policy is least privilege: PassRole on the job role only, to MediaConvert only; templates by ARN', () => {
    const env = envFor({ templates: ['mp4'] });
    const policy = operatorPolicy(env.config, env);
    const bySid = Object.fromEntries(policy.Statement.map((s) => [s.Sid, s]));
    expect(bySid.PassJobRole).toEqual({
      Sid: 'PassJobRole',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: 'arn:aws:iam::111122223333:role/demo-mediaconvert-job',
      Condition: { StringEquals: { 'iam:PassedToService': 'mediaconvert.amazonaws.com' } },
    });
    expect(bySid.CreateJobsFromTemplates?.Resource).toContain('arn:aws:mediaconvert:eu-west-1:111122223333:jobTemplates/demo-mp4');
    expect(JSON.stringify(bySid.CreateJobsFromTemplates)).not.toContain('demo-hls');
    expect(bySid.UploadToInputBucket?.Resource).toBe('arn:aws:s3:::demo-input/*');
    // No wildcard action anywhere.
    expect(JSON.stringify(policy)).not.toMatch(/"[a-z0-9]+:\*"|"Action":"\*"/);
    expect(bySid.SimulateEvents).toBeUndefined();
    expect(Object.fromEntries(operatorPolicy(envFor({ allowSimulatorSource: true }).config, env).Statement.map((s) => [s.Sid, s])).SimulateEvents).toMatchObject({
      Action: 'events:PutEvents',
      Condition: { StringEquals: { 'events:source': 'vidpipe.simulator' } },
    });
  });

  it('parses URL-encoded IAM documents and compares JSON by content', () => {
    const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow' }] };
    expect(parsePolicyDocument(encodeURIComponent(JSON.stringify(doc)))).toEqual(doc);
    expect(parsePolicyDocument(JSON.stringify(doc))).toEqual(doc);
    expect(sameJson({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(true);
    expect(sameJson({ b: [2, 1] }, { b: [1, 2] })).toBe(false);
  });

  it('containsJson ignores fields AWS adds but not a changed or missing one', () => {
    expect(containsJson({ a: 1, extra: 2, list: [{ x: 1, y: 0 }] }, { a: 1, list: [{ x: 1 }] })).toBe(true);
    expect(containsJson({ a: 2 }, { a: 1 })).toBe(false);
    expect(containsJson({ list: [{ x: 1 }, { x: 2 }] }, { list: [{ x: 1 }] })).toBe(false);
    expect(containsJson(undefined, { a: 1 })).toBe(false);
  });
});

describe('applyPlan (in-memory modules)', () => {
  const aws = {} as AwsContext;
  const env = envFor();

  it('applies in dependency order, independent steps in parallel', async () => {
    const log: string[] = [];
    const modules = [fake('a', [], log, { delayMs: 30 }), fake('b', [], log, { delayMs: 30 }), fake('c', ['a', 'b'], log)];
    const plan = planResources(modules.map((m) => input(m, undefined)), env);
    const started = Date.now();
    const result = await applyPlan(plan, { aws, env, modules, observed: new Map() });
    expect(result.failed).toEqual([]);
    // a and b started before either ended; c only after both.
    expect(log.slice(0, 2).sort()).toEqual(['start a', 'start b']);
    expect(log.indexOf('start c')).toBeGreaterThan(Math.max(log.indexOf('end a'), log.indexOf('end b')));
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('a failure skips its dependents and lets the independent steps finish', async () => {
    const log: string[] = [];
    const modules = [fake('a', [], log, { fail: true }), fake('b', ['a'], log), fake('c', ['b'], log), fake('d', [], log)];
    const plan = planResources(modules.map((m) => input(m, undefined)), env);
    const result = await applyPlan(plan, { aws, env, modules, observed: new Map() });
    expect(result.results.map((r) => [r.resource, r.outcome])).toEqual([
      ['a', 'failed'],
      ['b', 'skipped'],
      ['c', 'skipped'],
      ['d', 'done'],
    ]);
    expect(result.firstError?.message).toBe('a broke');
    expect(log).not.toContain('start b');
  });

  it('deletes dependents before what they depend on', async () => {
    const log: string[] = [];
    const modules = [fake('a', [], log), fake('b', ['a'], log), fake('c', ['b'], log)];
    const observed = new Map(modules.map((m) => [m.id, { arn: m.id, value: 'v' }]));
    const plan = planResources(modules.map((m) => input(m, observed.get(m.id), false)), env);
    await applyPlan(plan, { aws, env, modules, observed });
    expect(log.filter((l) => l.startsWith('end'))).toEqual(['end c', 'end b', 'end a']);
  });

  it('passes what a step created to the steps after it (ARNs AWS chooses)', async () => {
    const seen: unknown[] = [];
    const producer = fake('producer');
    const consumer: ResourceModule<string, { arn: string }> = {
      ...fake('consumer', ['producer']),
      apply: async (_aws, _d, _o, world) => {
        seen.push(world.get('producer')?.arn);
        return { arn: 'arn:consumer' };
      },
    };
    const modules = [producer, consumer] as AnyResource[];
    await applyPlan(planResources(modules.map((m) => input(m, undefined)), env), { aws, env, modules, observed: new Map() });
    expect(seen).toEqual(['arn:producer']);
  });
});

/**
 * The rule's target: the API destination, called with the invoke role, an explicit RetryPolicy, and (when enabled)
 * the DLQ. PutTargets and RemoveTargets report per-target failures in FailedEntryCount with HTTP 200: checked here.
 */
import { change, type Difference } from '../diff.js';
import { VidpipeError } from '../../errors.js';
import { usesApiDestination, type RetryPolicyConfig } from '../../config/config.js';
import type { AwsContext } from '../../aws/context.js';
import type { ProvisionEnv, ResourceModule, World } from '../types.js';
import { call, readOrUndefined } from './common.js';

interface TargetDesired {
  id: string;
  retry: RetryPolicyConfig;
  deadLetterQueue: boolean;
}

interface TargetObserved {
  destinationArn?: string;
  roleArn?: string;
  retry?: { maximumRetryAttempts?: number; maximumEventAgeInSeconds?: number };
  deadLetterArn?: string;
}

function expected(d: TargetDesired, world: World) {
  return {
    destinationArn: world.get('api-destination')?.arn,
    roleArn: world.get('invoke-role')?.arn,
    deadLetterArn: d.deadLetterQueue ? world.get('dead-letter-queue')?.arn : undefined,
  };
}

function checkFailed(action: string, out: { FailedEntryCount?: number; FailedEntries?: { ErrorCode?: string; ErrorMessage?: string }[] }): void {
  if (!out.FailedEntryCount) return;
  const first = out.FailedEntries?.[0];
  throw new VidpipeError('TARGET_FAILED', `${action} failed for ${out.FailedEntryCount} target(s): ${first?.ErrorCode ?? 'unknown'}: ${first?.ErrorMessage ?? ''}`, {
    hint: 'Run `vidpipe setup` again; if it persists, check the rule and its targets in the EventBridge console.',
  });
}

/** A target of the rule as ListTargetsByRule shows it (undefined: no target with this id). */
export interface ObservedTarget {
  arn?: string;
  roleArn?: string;
  retry: { maximumRetryAttempts?: number; maximumEventAgeInSeconds?: number };
  deadLetterArn?: string;
}

export async function readTarget(aws: AwsContext, env: ProvisionEnv, id: string): Promise<ObservedTarget | undefined> {
  const Rule = env.names.rule;
  const eb = await aws.eventbridge();
  const m = await import('@aws-sdk/client-eventbridge');
  const out = await readOrUndefined('events:ListTargetsByRule', Rule, () => eb.send(new m.ListTargetsByRuleCommand({ Rule })));
  const t = out?.Targets?.find((x) => x.Id === id);
  if (!t) return undefined;
  return {
    arn: t.Arn,
    roleArn: t.RoleArn,
    retry: { maximumRetryAttempts: t.RetryPolicy?.MaximumRetryAttempts, maximumEventAgeInSeconds: t.RetryPolicy?.MaximumEventAgeInSeconds },
    deadLetterArn: t.DeadLetterConfig?.Arn,
  };
}

/** Why a target's retry policy and dead-letter queue differ from the config's (the same rules for every target). */
export function retryAndDeadLetterReasons(
  d: { retry: RetryPolicyConfig; deadLetterQueue: boolean },
  o: { retry?: ObservedTarget['retry']; deadLetterArn?: string },
  wantDeadLetterArn: string | undefined,
): Difference[] {
  const reasons: Difference[] = [];
  if (o.retry?.maximumRetryAttempts !== d.retry.maximumRetryAttempts) reasons.push(change('RetryPolicy.MaximumRetryAttempts', o.retry?.maximumRetryAttempts, d.retry.maximumRetryAttempts));
  if (o.retry?.maximumEventAgeInSeconds !== d.retry.maximumEventAgeInSeconds)
    reasons.push(change('RetryPolicy.MaximumEventAgeInSeconds', o.retry?.maximumEventAgeInSeconds, d.retry.maximumEventAgeInSeconds));
  if (o.deadLetterArn !== wantDeadLetterArn || (d.deadLetterQueue && !wantDeadLetterArn))
    reasons.push(d.deadLetterQueue && !wantDeadLetterArn ? 'dead-letter queue not set' : change('DeadLetterConfig.Arn', o.deadLetterArn, wantDeadLetterArn));
  return reasons;
}

/** PutTargets of one whole target (it replaces what was there), with an explicit RetryPolicy and the DLQ if any. */
export async function putTarget(
  aws: AwsContext,
  env: ProvisionEnv,
  t: { id: string; arn: string; roleArn?: string; retry: RetryPolicyConfig; deadLetterArn?: string },
): Promise<void> {
  const eb = await aws.eventbridge();
  const m = await import('@aws-sdk/client-eventbridge');
  const out = await call('events:PutTargets', env.names.rule, () =>
    eb.send(
      new m.PutTargetsCommand({
        Rule: env.names.rule,
        Targets: [
          {
            Id: t.id,
            Arn: t.arn,
            ...(t.roleArn ? { RoleArn: t.roleArn } : {}),
            RetryPolicy: { MaximumRetryAttempts: t.retry.maximumRetryAttempts, MaximumEventAgeInSeconds: t.retry.maximumEventAgeInSeconds },
            ...(t.deadLetterArn ? { DeadLetterConfig: { Arn: t.deadLetterArn } } : {}),
          },
        ],
      }),
    ),
  );
  checkFailed('PutTargets', out);
}

export async function removeTarget(aws: AwsContext, env: ProvisionEnv, id: string): Promise<void> {
  const eb = await aws.eventbridge();
  const m = await import('@aws-sdk/client-eventbridge');
  const out = await readOrUndefined('events:RemoveTargets', env.names.rule, () => eb.send(new m.RemoveTargetsCommand({ Rule: env.names.rule, Ids: [id] })));
  if (out) checkFailed('RemoveTargets', out);
}

export const ruleTarget: ResourceModule<TargetDesired, TargetObserved> = {
  id: 'rule-target',
  kind: 'EventBridge rule target',
  dependsOn: ['rule', 'api-destination', 'invoke-role', 'dead-letter-queue'],
  name: (env) => `${env.names.rule} → ${env.names.apiDestination}`,
  desired: (env) =>
    usesApiDestination(env.config) ? { id: env.names.targetId, retry: env.config.retryPolicy, deadLetterQueue: env.config.deadLetterQueue } : undefined,

  async observe(aws, env) {
    const t = await readTarget(aws, env, env.names.targetId);
    return t && { destinationArn: t.arn, roleArn: t.roleArn, retry: t.retry, deadLetterArn: t.deadLetterArn };
  },

  diff(d, o, world) {
    const want = expected(d, world);
    const reasons: Difference[] = [];
    if (!want.destinationArn || o.destinationArn !== want.destinationArn) reasons.push(want.destinationArn ? change('Arn', o.destinationArn, want.destinationArn) : 'does not point at the API destination');
    if (!want.roleArn || o.roleArn !== want.roleArn) reasons.push(want.roleArn ? change('RoleArn', o.roleArn, want.roleArn) : 'does not use the invoke role');
    reasons.push(...retryAndDeadLetterReasons(d, o, want.deadLetterArn));
    return reasons;
  },

  async apply(aws, d, _o, world, env) {
    const want = expected(d, world);
    if (!want.destinationArn || !want.roleArn || (d.deadLetterQueue && !want.deadLetterArn))
      throw new Error('the API destination, the invoke role and the dead-letter queue must exist before the target');
    await putTarget(aws, env, { id: d.id, arn: want.destinationArn, roleArn: want.roleArn, retry: d.retry, deadLetterArn: want.deadLetterArn });
    return { ...want, retry: { ...d.retry } };
  },

  async destroy(aws, _o, env) {
    await removeTarget(aws, env, env.names.targetId);
  },
};

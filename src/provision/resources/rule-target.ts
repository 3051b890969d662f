/**
 * The rule's target: the API destination, called with the invoke role, an explicit RetryPolicy, and (when enabled)
 * the DLQ. PutTargets and RemoveTargets report per-target failures in FailedEntryCount with HTTP 200: checked here.
 */
import { VidpipeError } from '../../errors.js';
import { usesApiDestination, type RetryPolicyConfig } from '../../config/config.js';
import type { ResourceModule, World } from '../types.js';
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

export function checkFailed(action: string, out: { FailedEntryCount?: number; FailedEntries?: { ErrorCode?: string; ErrorMessage?: string }[] }): void {
  if (!out.FailedEntryCount) return;
  const first = out.FailedEntries?.[0];
  throw new VidpipeError('TARGET_FAILED', `${action} failed for ${out.FailedEntryCount} target(s): ${first?.ErrorCode ?? 'unknown'}: ${first?.ErrorMessage ?? ''}`, {
    hint: 'Run `vidpipe setup` again; if it persists, check the rule and the API destination in the EventBridge console.',
  });
}

export const ruleTarget: ResourceModule<TargetDesired, TargetObserved> = {
  id: 'rule-target',
  kind: 'EventBridge rule target',
  dependsOn: ['rule', 'api-destination', 'invoke-role', 'dead-letter-queue'],
  name: (env) => `${env.names.rule} → ${env.names.apiDestination}`,
  desired: (env) =>
    usesApiDestination(env.config) ? { id: env.names.targetId, retry: env.config.retryPolicy, deadLetterQueue: env.config.deadLetterQueue } : undefined,

  async observe(aws, env) {
    const Rule = env.names.rule;
    const eb = await aws.eventbridge();
    const m = await import('@aws-sdk/client-eventbridge');
    const out = await readOrUndefined('events:ListTargetsByRule', Rule, () => eb.send(new m.ListTargetsByRuleCommand({ Rule })));
    const t = out?.Targets?.find((x) => x.Id === env.names.targetId);
    if (!t) return undefined;
    return {
      destinationArn: t.Arn,
      roleArn: t.RoleArn,
      retry: { maximumRetryAttempts: t.RetryPolicy?.MaximumRetryAttempts, maximumEventAgeInSeconds: t.RetryPolicy?.MaximumEventAgeInSeconds },
      deadLetterArn: t.DeadLetterConfig?.Arn,
    };
  },

  diff(d, o, world) {
    const want = expected(d, world);
    const reasons: string[] = [];
    if (!want.destinationArn || o.destinationArn !== want.destinationArn) reasons.push('does not point at the API destination');
    if (!want.roleArn || o.roleArn !== want.roleArn) reasons.push('does not use the invoke role');
    if (o.retry?.maximumRetryAttempts !== d.retry.maximumRetryAttempts || o.retry?.maximumEventAgeInSeconds !== d.retry.maximumEventAgeInSeconds)
      reasons.push('retry policy differs');
    if (o.deadLetterArn !== want.deadLetterArn || (d.deadLetterQueue && !want.deadLetterArn))
      reasons.push(d.deadLetterQueue ? 'dead-letter queue not set' : 'has a dead-letter queue the config turned off');
    return reasons;
  },

  async apply(aws, d, _o, world, env) {
    const eb = await aws.eventbridge();
    const m = await import('@aws-sdk/client-eventbridge');
    const want = expected(d, world);
    if (!want.destinationArn || !want.roleArn || (d.deadLetterQueue && !want.deadLetterArn))
      throw new Error('the API destination, the invoke role and the dead-letter queue must exist before the target');
    const out = await call('events:PutTargets', env.names.rule, () =>
      eb.send(
        new m.PutTargetsCommand({
          Rule: env.names.rule,
          Targets: [
            {
              Id: d.id,
              Arn: want.destinationArn,
              RoleArn: want.roleArn,
              RetryPolicy: { MaximumRetryAttempts: d.retry.maximumRetryAttempts, MaximumEventAgeInSeconds: d.retry.maximumEventAgeInSeconds },
              ...(want.deadLetterArn ? { DeadLetterConfig: { Arn: want.deadLetterArn } } : {}),
            },
          ],
        }),
      ),
    );
    checkFailed('PutTargets', out);
    return { ...want, retry: { ...d.retry } };
  },

  async destroy(aws, _o, env) {
    const eb = await aws.eventbridge();
    const m = await import('@aws-sdk/client-eventbridge');
    const out = await readOrUndefined('events:RemoveTargets', env.names.rule, () =>
      eb.send(new m.RemoveTargetsCommand({ Rule: env.names.rule, Ids: [env.names.targetId] })),
    );
    if (out) checkFailed('RemoveTargets', out);
  },
};

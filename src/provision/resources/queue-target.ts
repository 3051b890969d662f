/**
 * The rule's target in SQS delivery: the event queue, with the same RetryPolicy and dead-letter queue as the API
 * destination's target (a send EventBridge cannot make, e.g. the queue policy refusing it, is retried, then
 * dead-lettered). No RoleArn: EventBridge sends to SQS under the queue's resource policy
 * (eventbridge/latest/userguide/eb-use-resource-based.html#eb-sqs-permissions).
 */
import { usesEventQueue, type RetryPolicyConfig } from '../../config/config.js';
import type { ResourceModule, World } from '../types.js';
import { call, readOrUndefined } from './common.js';
import { checkFailed } from './rule-target.js';

interface QueueTargetDesired {
  id: string;
  retry: RetryPolicyConfig;
  deadLetterQueue: boolean;
}

export interface QueueTargetObserved {
  queueArn?: string;
  roleArn?: string;
  retry?: { maximumRetryAttempts?: number; maximumEventAgeInSeconds?: number };
  deadLetterArn?: string;
}

function expected(d: QueueTargetDesired, world: World) {
  return {
    queueArn: world.get('event-queue')?.arn,
    deadLetterArn: d.deadLetterQueue ? world.get('dead-letter-queue')?.arn : undefined,
  };
}

export const queueTarget: ResourceModule<QueueTargetDesired, QueueTargetObserved> = {
  id: 'queue-target',
  kind: 'EventBridge rule target (SQS)',
  dependsOn: ['rule', 'event-queue', 'dead-letter-queue'],
  name: (env) => `${env.names.rule} → ${env.names.eventQueue}`,
  desired: (env) =>
    usesEventQueue(env.config) ? { id: env.names.queueTargetId, retry: env.config.retryPolicy, deadLetterQueue: env.config.deadLetterQueue } : undefined,

  async observe(aws, env) {
    const Rule = env.names.rule;
    const eb = await aws.eventbridge();
    const m = await import('@aws-sdk/client-eventbridge');
    const out = await readOrUndefined('events:ListTargetsByRule', Rule, () => eb.send(new m.ListTargetsByRuleCommand({ Rule })));
    const t = out?.Targets?.find((x) => x.Id === env.names.queueTargetId);
    if (!t) return undefined;
    return {
      queueArn: t.Arn,
      roleArn: t.RoleArn,
      retry: { maximumRetryAttempts: t.RetryPolicy?.MaximumRetryAttempts, maximumEventAgeInSeconds: t.RetryPolicy?.MaximumEventAgeInSeconds },
      deadLetterArn: t.DeadLetterConfig?.Arn,
    };
  },

  diff(d, o, world) {
    const want = expected(d, world);
    const reasons: string[] = [];
    if (!want.queueArn || o.queueArn !== want.queueArn) reasons.push('does not point at the event queue');
    if (o.roleArn) reasons.push('has a role an SQS target does not need');
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
    if (!want.queueArn || (d.deadLetterQueue && !want.deadLetterArn)) throw new Error('the event queue and the dead-letter queue must exist before the target');
    // PutTargets replaces the whole target: a RoleArn set behind vidpipe's back goes with it.
    const out = await call('events:PutTargets', env.names.rule, () =>
      eb.send(
        new m.PutTargetsCommand({
          Rule: env.names.rule,
          Targets: [
            {
              Id: d.id,
              Arn: want.queueArn,
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
      eb.send(new m.RemoveTargetsCommand({ Rule: env.names.rule, Ids: [env.names.queueTargetId] })),
    );
    if (out) checkFailed('RemoveTargets', out);
  },
};

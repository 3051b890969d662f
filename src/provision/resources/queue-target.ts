/**
 * The rule's target in SQS delivery: the event queue, with the same RetryPolicy and dead-letter queue as the API
 * destination's target (a send EventBridge cannot make, e.g. the queue policy refusing it, is retried, then
 * dead-lettered). No RoleArn: EventBridge sends to SQS under the queue's resource policy
 * (eventbridge/latest/userguide/eb-use-resource-based.html#eb-sqs-permissions).
 */
import { usesEventQueue, type RetryPolicyConfig } from '../../config/config.js';
import { change, type Difference } from '../diff.js';
import type { ResourceModule, World } from '../types.js';
import { putTarget, readTarget, removeTarget, retryAndDeadLetterReasons } from './rule-target.js';

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
    const t = await readTarget(aws, env, env.names.queueTargetId);
    return t && { queueArn: t.arn, roleArn: t.roleArn, retry: t.retry, deadLetterArn: t.deadLetterArn };
  },

  diff(d, o, world) {
    const want = expected(d, world);
    const reasons: Difference[] = [];
    if (!want.queueArn || o.queueArn !== want.queueArn) reasons.push(want.queueArn ? change('Arn', o.queueArn, want.queueArn) : 'does not point at the event queue');
    // An SQS target is authorized by the queue policy: a role would only be a permission nobody needs.
    if (o.roleArn) reasons.push(change('RoleArn', o.roleArn, undefined));
    reasons.push(...retryAndDeadLetterReasons(d, o, want.deadLetterArn));
    return reasons;
  },

  async apply(aws, d, _o, world, env) {
    const want = expected(d, world);
    if (!want.queueArn || (d.deadLetterQueue && !want.deadLetterArn)) throw new Error('the event queue and the dead-letter queue must exist before the target');
    // PutTargets replaces the whole target: a RoleArn set behind vidpipe's back goes with it.
    await putTarget(aws, env, { id: d.id, arn: want.queueArn, retry: d.retry, deadLetterArn: want.deadLetterArn });
    return { ...want, retry: { ...d.retry } };
  },

  async destroy(aws, _o, env) {
    await removeTarget(aws, env, env.names.queueTargetId);
  },
};

/**
 * The dead-letter queue for events the API destination could not deliver: a standard SQS queue (EventBridge refuses
 * FIFO DLQs) whose policy lets exactly this rule send (aws:SourceArn). Messages are kept 14 days, SQS's maximum.
 * In SQS delivery it is also the event queue's redrive target (event-queue.ts): SQS moves messages there itself, under
 * no queue policy.
 */
import { change, jsonChanges, type Difference } from '../diff.js';
import { deadLetterQueuePolicy, parsePolicyDocument } from '../documents.js';
import { sameJson } from '../../util/canonical-json.js';
import { arns } from '../names.js';
import type { ResourceModule } from '../types.js';
import { appTagMap, call, createQueue, deleteIfExists, readQueue } from './common.js';

const RETENTION_SECONDS = '1209600';

interface QueueDesired {
  name: string;
  attributes: { Policy: string; MessageRetentionPeriod: string };
}

interface QueueObserved {
  arn: string;
  url: string;
  policy: unknown;
  retention?: string;
  depth: number;
}

export const deadLetterQueue: ResourceModule<QueueDesired, QueueObserved> = {
  id: 'dead-letter-queue',
  kind: 'SQS queue (DLQ)',
  dependsOn: [],
  name: (env) => env.names.deadLetterQueue,
  desired: (env) =>
    env.config.deadLetterQueue
      ? {
          name: env.names.deadLetterQueue,
          attributes: {
            Policy: JSON.stringify(deadLetterQueuePolicy(env, env.names.deadLetterQueue, env.names.rule)),
            MessageRetentionPeriod: RETENTION_SECONDS,
          },
        }
      : undefined,

  async observe(aws, env) {
    const q = await readQueue(aws, env.names.deadLetterQueue, ['QueueArn', 'Policy', 'MessageRetentionPeriod', 'ApproximateNumberOfMessages']);
    if (!q) return undefined;
    const a = q.attributes;
    const QueueUrl = q.url;
    return {
      arn: a.QueueArn!,
      url: QueueUrl,
      policy: parsePolicyDocument(a.Policy),
      retention: a.MessageRetentionPeriod,
      depth: Number(a.ApproximateNumberOfMessages ?? 0),
    };
  },

  diff(d, o) {
    const reasons: Difference[] = [];
    if (!sameJson(o.policy, JSON.parse(d.attributes.Policy))) reasons.push(...(o.policy ? jsonChanges('Policy', o.policy, JSON.parse(d.attributes.Policy)) : ['queue policy missing']));
    if (o.retention !== d.attributes.MessageRetentionPeriod) reasons.push(change('MessageRetentionPeriod', o.retention, d.attributes.MessageRetentionPeriod));
    return reasons;
  },

  async apply(aws, d, o, _w, env) {
    const sqs = await aws.sqs();
    const m = await import('@aws-sdk/client-sqs');
    if (o) {
      await call('sqs:SetQueueAttributes', d.name, () => sqs.send(new m.SetQueueAttributesCommand({ QueueUrl: o.url, Attributes: d.attributes })));
      return { ...o, policy: JSON.parse(d.attributes.Policy), retention: d.attributes.MessageRetentionPeriod };
    }
    const created = await createQueue(d.name, () => sqs.send(new m.CreateQueueCommand({ QueueName: d.name, Attributes: d.attributes, tags: appTagMap(env) })));
    return {
      arn: arns.queue(env, d.name),
      url: created.QueueUrl!,
      policy: JSON.parse(d.attributes.Policy),
      retention: d.attributes.MessageRetentionPeriod,
      depth: 0,
    };
  },

  async destroy(aws, o, env) {
    const sqs = await aws.sqs();
    const m = await import('@aws-sdk/client-sqs');
    // Note: SQS refuses to re-create a queue of the same name for 60 s after DeleteQueue.
    await deleteIfExists('sqs:DeleteQueue', env.names.deadLetterQueue, () => sqs.send(new m.DeleteQueueCommand({ QueueUrl: o.url })));
  },

  details: (o) => ({ depth: o.depth }),
};

/**
 * The event queue for SQS delivery (`delivery: "sqs" | "both"`): the rule's second kind of target, read by
 * `vidpipe listen --pull`, so a listener without a public URL still gets every event. A standard queue (EventBridge
 * sends to FIFO queues only with a message group id, and the listener orders by event time, not by arrival), with:
 *
 * - SSE-SQS (SqsManagedSseEnabled): encrypted at rest with no KMS key to manage. EventBridge cannot send to a queue
 *   encrypted with the AWS managed key aws/sqs, whose key policy cannot grant it kms:GenerateDataKey
 *   (eventbridge/latest/userguide/eb-troubleshooting.html, "my rule … SQS queue"); SQS-managed keys need no grant.
 * - A policy letting only this rule send (events.amazonaws.com with aws:SourceArn = the rule's ARN).
 * - A redrive policy to the dead-letter queue after MAX_RECEIVE_COUNT receives.
 * - A visibility timeout suited to the puller, and long polling by default.
 */
import { usesEventQueue } from '../../config/config.js';
import { change, jsonChanges, type Difference } from '../diff.js';
import { eventQueuePolicy, parsePolicyDocument } from '../documents.js';
import { sameJson } from '../../util/canonical-json.js';
import { arns } from '../names.js';
import type { ProvisionEnv, ResourceModule } from '../types.js';
import { appTagMap, call, createQueue, deleteIfExists, readQueue } from './common.js';

/**
 * A message received this many times without being deleted moves to the DLQ. The puller deletes a message once its
 * event is committed and leaves one it cannot parse for the redrive policy: 5 receives let a message survive a few
 * puller crashes or SIGKILLs mid-batch (each one a receive that never deletes) without being set aside, and move a
 * poison message (not an event, another detail-type) out of the way after about 5 visibility timeouts, ~5 min.
 * maxReceiveCount may be 1–1000 (SQS developer guide, sqs-dead-letter-queues.html).
 */
export const MAX_RECEIVE_COUNT = 5;
/**
 * 60 s: long enough to commit a batch of 10 events (milliseconds each), short enough that a crashed puller's messages
 * come back within a minute. The puller extends the timeout (ChangeMessageVisibility) for a batch that runs long.
 */
export const VISIBILITY_TIMEOUT_SECONDS = 60;
/**
 * 4 days, SQS's default, kept explicit: a message keeps its original enqueue time when it moves to the DLQ, so the DLQ
 * must keep messages longer than this queue does (AWS recommends it, sqs-dead-letter-queues.html); the DLQ keeps 14.
 * Events older than 4 days with no puller running are dropped, past EventBridge's own retry window (24 h) anyway.
 */
export const RETENTION_SECONDS = 4 * 24 * 3600;
/** 20 s, the maximum: a ReceiveMessage without WaitTimeSeconds still long-polls instead of answering empty at once. */
export const RECEIVE_WAIT_SECONDS = 20;

export interface EventQueueDesired {
  name: string;
  attributes: Record<string, string>;
}

export interface EventQueueObserved {
  arn: string;
  url: string;
  policy: unknown;
  /** The redrive policy as SQS returns it, parsed (undefined: none). */
  redrive?: { deadLetterTargetArn?: string; maxReceiveCount?: number | string };
  sse?: string;
  visibilityTimeout?: string;
  retention?: string;
  receiveWait?: string;
  depth: number;
  inFlight: number;
}

/** The redrive policy vidpipe sets: to the DLQ (whose ARN follows from its name), or none when the DLQ is off. */
function redrivePolicy(env: ProvisionEnv): string {
  return env.config.deadLetterQueue ? JSON.stringify({ deadLetterTargetArn: arns.queue(env, env.names.deadLetterQueue), maxReceiveCount: MAX_RECEIVE_COUNT }) : '';
}

function parseRedrive(text: string | undefined): EventQueueObserved['redrive'] {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as EventQueueObserved['redrive'];
  } catch {
    return {};
  }
}

const ATTRIBUTES = [
  'QueueArn',
  'Policy',
  'RedrivePolicy',
  'SqsManagedSseEnabled',
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
] as const;

export const eventQueue: ResourceModule<EventQueueDesired, EventQueueObserved> = {
  id: 'event-queue',
  kind: 'SQS queue (events)',
  // The redrive policy names the DLQ, and SQS refuses a redrive policy whose queue does not exist.
  dependsOn: ['dead-letter-queue'],
  name: (env) => env.names.eventQueue,
  desired: (env) =>
    usesEventQueue(env.config)
      ? {
          name: env.names.eventQueue,
          attributes: {
            Policy: JSON.stringify(eventQueuePolicy(env, env.names.eventQueue, env.names.rule)),
            SqsManagedSseEnabled: 'true',
            VisibilityTimeout: String(VISIBILITY_TIMEOUT_SECONDS),
            MessageRetentionPeriod: String(RETENTION_SECONDS),
            ReceiveMessageWaitTimeSeconds: String(RECEIVE_WAIT_SECONDS),
            RedrivePolicy: redrivePolicy(env),
          },
        }
      : undefined,

  async observe(aws, env) {
    const q = await readQueue(aws, env.names.eventQueue, [...ATTRIBUTES]);
    if (!q) return undefined;
    const a = q.attributes;
    const QueueUrl = q.url;
    return {
      arn: a.QueueArn!,
      url: QueueUrl,
      policy: parsePolicyDocument(a.Policy),
      redrive: parseRedrive(a.RedrivePolicy),
      sse: a.SqsManagedSseEnabled,
      visibilityTimeout: a.VisibilityTimeout,
      retention: a.MessageRetentionPeriod,
      receiveWait: a.ReceiveMessageWaitTimeSeconds,
      depth: Number(a.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  },

  diff(d, o) {
    const reasons: Difference[] = [];
    const want = d.attributes;
    const policy = JSON.parse(want.Policy!) as unknown;
    if (!sameJson(o.policy, policy)) reasons.push(...(o.policy ? jsonChanges('Policy', o.policy, policy) : ['queue policy missing']));
    if (o.sse !== 'true') reasons.push(change('SqsManagedSseEnabled', o.sse, 'true'));
    for (const key of ['VisibilityTimeout', 'MessageRetentionPeriod', 'ReceiveMessageWaitTimeSeconds'] as const) {
      const current = { VisibilityTimeout: o.visibilityTimeout, MessageRetentionPeriod: o.retention, ReceiveMessageWaitTimeSeconds: o.receiveWait }[key];
      if (current !== want[key]) reasons.push(change(key, current, want[key]));
    }
    const redrive = want.RedrivePolicy ? (JSON.parse(want.RedrivePolicy) as { deadLetterTargetArn: string; maxReceiveCount: number }) : undefined;
    if (!redrive) {
      if (o.redrive?.deadLetterTargetArn) reasons.push(change('RedrivePolicy', o.redrive, undefined));
    } else if (!o.redrive?.deadLetterTargetArn) reasons.push('no redrive policy to the dead-letter queue');
    else {
      if (o.redrive.deadLetterTargetArn !== redrive.deadLetterTargetArn) reasons.push(change('RedrivePolicy.deadLetterTargetArn', o.redrive.deadLetterTargetArn, redrive.deadLetterTargetArn));
      // SQS returns maxReceiveCount as a number, some emulators as a string.
      if (Number(o.redrive.maxReceiveCount) !== redrive.maxReceiveCount) reasons.push(change('RedrivePolicy.maxReceiveCount', o.redrive.maxReceiveCount, redrive.maxReceiveCount));
    }
    return reasons;
  },

  async apply(aws, d, o, _w, env) {
    const sqs = await aws.sqs();
    const m = await import('@aws-sdk/client-sqs');
    const state = (arn: string, url: string): EventQueueObserved => ({
      arn,
      url,
      policy: JSON.parse(d.attributes.Policy!),
      redrive: parseRedrive(d.attributes.RedrivePolicy),
      sse: 'true',
      visibilityTimeout: d.attributes.VisibilityTimeout,
      retention: d.attributes.MessageRetentionPeriod,
      receiveWait: d.attributes.ReceiveMessageWaitTimeSeconds,
      depth: o?.depth ?? 0,
      inFlight: o?.inFlight ?? 0,
    });
    if (o) {
      // Every attribute at once (an empty RedrivePolicy removes it): SetQueueAttributes leaves the others as they are.
      await call('sqs:SetQueueAttributes', d.name, () => sqs.send(new m.SetQueueAttributesCommand({ QueueUrl: o.url, Attributes: d.attributes })));
      return state(o.arn, o.url);
    }
    // An empty RedrivePolicy is how SetQueueAttributes removes one; a new queue is simply created without it.
    const { RedrivePolicy, ...rest } = d.attributes;
    const Attributes = RedrivePolicy ? d.attributes : rest;
    const created = await createQueue(d.name, () => sqs.send(new m.CreateQueueCommand({ QueueName: d.name, Attributes, tags: appTagMap(env) })));
    return state(arns.queue(env, d.name), created.QueueUrl!);
  },

  async destroy(aws, o, env) {
    const sqs = await aws.sqs();
    const m = await import('@aws-sdk/client-sqs');
    // Messages still in it are lost with it; SQS refuses to re-create a queue of the same name for 60 s.
    await deleteIfExists('sqs:DeleteQueue', env.names.eventQueue, () => sqs.send(new m.DeleteQueueCommand({ QueueUrl: o.url })));
  },

  details: (o) => ({ depth: o.depth, 'in flight': o.inFlight }),
};

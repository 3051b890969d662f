/**
 * The dead-letter queue as an inbox. EventBridge writes each event it gave up on as one SQS message: the event as the
 * body, and why in the message attributes RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION,
 * RETRY_ATTEMPTS (eventbridge/latest/userguide/eb-rule-dlq.html).
 *
 * Reading must not lose anything: messages are received with a short visibility timeout (they come back on their own
 * if vidpipe dies), released again (visibility 0) when only read, and deleted only after the listener (or
 * PutEvents) accepted their event.
 */
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { AwsContext } from '../aws/context.js';
import { awsCall, awsErrorName } from '../aws/errors.js';
import { VidpipeError, ExitCode } from '../errors.js';

/** Long enough to read a whole queue page by page (or POST a batch of 10 with EventBridge's 5 s timeout each), short enough to come back soon. */
export const READ_VISIBILITY_SECONDS = 60;
/** SQS ReceiveMessage returns at most 10 messages per call. */
const RECEIVE_MAX = 10;
/** Long polling for 1 s asks every SQS server, so an empty answer means the queue is really empty (short polls sample a subset). */
const WAIT_SECONDS = 1;

export interface DeadLetter {
  messageId: string;
  receiptHandle: string;
  /** When EventBridge wrote it (SentTimestamp), ISO. */
  sentAt?: string;
  receiveCount?: number;
  errorCode?: string;
  errorMessage?: string;
  ruleArn?: string;
  targetArn?: string;
  exhaustedRetryCondition?: string;
  retryAttempts?: string;
  body: string;
  /** The body parsed, when it is JSON. */
  event?: Record<string, unknown>;
}

export interface DeadLetterGroup {
  errorCode: string;
  errorMessage: string;
  ruleArn: string;
  targetArn: string;
  count: number;
  oldest?: string;
  newest?: string;
  messageIds: string[];
}

export async function deadLetterQueueUrl(aws: AwsContext, queueName: string): Promise<string> {
  const sqs = await aws.sqs();
  const m = await import('@aws-sdk/client-sqs');
  try {
    const out = await sqs.send(new m.GetQueueUrlCommand({ QueueName: queueName }));
    return out.QueueUrl!;
  } catch (err) {
    if (/NonExistentQueue|QueueDoesNotExist|NotFound/.test(awsErrorName(err)))
      throw new VidpipeError('DLQ_MISSING', `The dead-letter queue ${queueName} does not exist.`, {
        hint: 'Run `vidpipe setup` (with "deadLetterQueue": true in vidpipe.config.json) to create it.',
        exitCode: ExitCode.drift,
      });
    return awsCall({ action: 'sqs:GetQueueUrl', resource: queueName }, () => Promise.reject(err));
  }
}

export async function queueDepth(sqs: SQSClient, QueueUrl: string): Promise<number> {
  const m = await import('@aws-sdk/client-sqs');
  const out = await awsCall({ action: 'sqs:GetQueueAttributes', resource: QueueUrl }, () =>
    sqs.send(new m.GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] })),
  );
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
}

export function toDeadLetter(message: Message): DeadLetter {
  const a = message.MessageAttributes ?? {};
  const attr = (k: string) => a[k]?.StringValue;
  const sent = message.Attributes?.SentTimestamp;
  let event: Record<string, unknown> | undefined;
  try {
    const parsed = JSON.parse(message.Body ?? '') as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) event = parsed as Record<string, unknown>;
  } catch {
    event = undefined;
  }
  const opt = <K extends string>(k: K, v: string | number | undefined) => (v === undefined ? {} : ({ [k]: v } as Record<K, string | number>));
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    ...opt('sentAt', sent ? new Date(Number(sent)).toISOString() : undefined),
    ...opt('receiveCount', message.Attributes?.ApproximateReceiveCount ? Number(message.Attributes.ApproximateReceiveCount) : undefined),
    ...opt('errorCode', attr('ERROR_CODE')),
    ...opt('errorMessage', attr('ERROR_MESSAGE')),
    ...opt('ruleArn', attr('RULE_ARN')),
    ...opt('targetArn', attr('TARGET_ARN')),
    ...opt('exhaustedRetryCondition', attr('EXHAUSTED_RETRY_CONDITION')),
    ...opt('retryAttempts', attr('RETRY_ATTEMPTS')),
    body: message.Body ?? '',
    ...(event ? { event } : {}),
  } as DeadLetter;
}

/** One ReceiveMessage: up to 10 messages, hidden from other readers for `visibilitySeconds`. */
export async function receiveBatch(sqs: SQSClient, QueueUrl: string, visibilitySeconds = READ_VISIBILITY_SECONDS): Promise<DeadLetter[]> {
  const m = await import('@aws-sdk/client-sqs');
  const out = await awsCall({ action: 'sqs:ReceiveMessage', resource: QueueUrl }, () =>
    sqs.send(
      new m.ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages: RECEIVE_MAX,
        VisibilityTimeout: visibilitySeconds,
        WaitTimeSeconds: WAIT_SECONDS,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
      }),
    ),
  );
  return (out.Messages ?? []).map(toDeadLetter);
}

/** Makes messages visible again at once (ChangeMessageVisibility to 0), 10 per call. A failure here only delays them until their timeout ends. */
export async function release(sqs: SQSClient, QueueUrl: string, letters: readonly DeadLetter[]): Promise<void> {
  const m = await import('@aws-sdk/client-sqs');
  for (let i = 0; i < letters.length; i += RECEIVE_MAX) {
    const batch = letters.slice(i, i + RECEIVE_MAX);
    await sqs
      .send(
        new m.ChangeMessageVisibilityBatchCommand({
          QueueUrl,
          Entries: batch.map((l, j) => ({ Id: String(j), ReceiptHandle: l.receiptHandle, VisibilityTimeout: 0 })),
        }),
      )
      .catch(() => undefined);
  }
}

export async function deleteLetter(sqs: SQSClient, QueueUrl: string, letter: DeadLetter): Promise<void> {
  const m = await import('@aws-sdk/client-sqs');
  await awsCall({ action: 'sqs:DeleteMessage', resource: QueueUrl }, () => sqs.send(new m.DeleteMessageCommand({ QueueUrl, ReceiptHandle: letter.receiptHandle })));
}

/**
 * Reads every message in the queue (up to `max`) and gives them back: each is received once (deduplicated by
 * MessageId), then released. Messages another reader holds are not seen.
 */
export async function readAll(sqs: SQSClient, QueueUrl: string, max = 10_000): Promise<DeadLetter[]> {
  const seen = new Map<string, DeadLetter>();
  try {
    while (seen.size < max) {
      const batch = await receiveBatch(sqs, QueueUrl);
      const fresh = batch.filter((l) => !seen.has(l.messageId));
      for (const l of batch) seen.set(l.messageId, l);
      if (!fresh.length) break;
    }
  } finally {
    await release(sqs, QueueUrl, [...seen.values()]);
  }
  return [...seen.values()];
}

/** Groups by what EventBridge said went wrong, most frequent first. */
export function groupLetters(letters: readonly DeadLetter[]): DeadLetterGroup[] {
  const groups = new Map<string, DeadLetterGroup>();
  for (const l of letters) {
    const key = [l.errorCode, l.errorMessage, l.ruleArn, l.targetArn].join('\0');
    let g = groups.get(key);
    if (!g) {
      g = { errorCode: l.errorCode ?? '(none)', errorMessage: l.errorMessage ?? '(none)', ruleArn: l.ruleArn ?? '(none)', targetArn: l.targetArn ?? '(none)', count: 0, messageIds: [] };
      groups.set(key, g);
    }
    g.count++;
    g.messageIds.push(l.messageId);
    if (l.sentAt && (!g.oldest || l.sentAt < g.oldest)) g.oldest = l.sentAt;
    if (l.sentAt && (!g.newest || l.sentAt > g.newest)) g.newest = l.sentAt;
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || (a.oldest ?? '').localeCompare(b.oldest ?? ''));
}

/** What the JSON and the tables show of a letter (no receipt handle: it is a capability to delete the message). */
export function letterSummary(l: DeadLetter) {
  const detail = (l.event?.detail ?? {}) as Record<string, unknown>;
  return {
    messageId: l.messageId,
    sentAt: l.sentAt,
    errorCode: l.errorCode,
    errorMessage: l.errorMessage,
    eventId: typeof l.event?.id === 'string' ? l.event.id : undefined,
    jobId: typeof detail.jobId === 'string' ? detail.jobId : undefined,
    status: typeof detail.status === 'string' ? detail.status : undefined,
  };
}

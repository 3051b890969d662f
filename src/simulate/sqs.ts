/**
 * `--via sqs`: the envelope straight into the event queue that `vidpipe listen --pull` reads, as the rule's SQS target
 * would put it there — the message body is the event JSON, nothing else (EventBridge adds no message attributes unless
 * the target asks for them). The rule is bypassed: no pattern, no archive, no retry.
 *
 * SendMessageBatch answers 200 whatever happened to each entry: Successful and Failed say, per entry (SQS API
 * reference, SendMessageBatch). Every entry is checked; a sender's fault (SenderFault) is not retried.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { awsCall } from '../aws/errors.js';
import type { JobStateChangeEvent } from '../events/types.js';
import { runPool } from './load.js';

/** SendMessageBatch takes at most 10 entries (SQS API reference, SendMessageBatch). */
export const SEND_BATCH_MAX_ENTRIES = 10;
/** Attempts per entry SQS failed on its side (SenderFault false), backing off 100, 200, 400 ms. */
const MAX_ATTEMPTS = 4;

export interface SendOutcome {
  /** SQS's message id for each event, in order (undefined for a failed one). */
  messageIds: (string | undefined)[];
  failures: { index: number; jobId: string; status: string; code: string; message: string }[];
  calls: number;
}

export async function sendMessagesBatched(
  client: Pick<SQSClient, 'send'>,
  queueUrl: string,
  events: JobStateChangeEvent[],
  concurrency = 1,
): Promise<SendOutcome> {
  const { SendMessageBatchCommand } = await import('@aws-sdk/client-sqs');
  const batches: number[] = [];
  for (let start = 0; start < events.length; start += SEND_BATCH_MAX_ENTRIES) batches.push(start);
  const outcome: SendOutcome = { messageIds: new Array(events.length), failures: [], calls: 0 };
  await runPool(batches, concurrency, async (start) => {
    let pending = events.slice(start, start + SEND_BATCH_MAX_ENTRIES).map((_, i) => start + i);
    for (let attempt = 1; pending.length; attempt++) {
      const result = await awsCall({ action: 'sqs:SendMessage', resource: queueUrl }, () =>
        client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending.map((index) => ({ Id: String(index), MessageBody: JSON.stringify(events[index]) })) })),
      );
      outcome.calls++;
      for (const ok of result.Successful ?? []) outcome.messageIds[Number(ok.Id)] = ok.MessageId;
      const retry: number[] = [];
      for (const failed of result.Failed ?? []) {
        const index = Number(failed.Id);
        if (!failed.SenderFault && attempt < MAX_ATTEMPTS) {
          retry.push(index);
          continue;
        }
        const event = events[index]!;
        outcome.failures.push({ index, jobId: event.detail.jobId, status: event.detail.status, code: failed.Code ?? 'Unknown', message: failed.Message ?? '' });
      }
      pending = retry;
      if (pending.length) await new Promise((r) => setTimeout(r, 100 * 2 ** (attempt - 1)));
    }
  });
  outcome.failures.sort((a, b) => a.index - b.index);
  return outcome;
}

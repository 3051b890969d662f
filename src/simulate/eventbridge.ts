/**
 * `--via eventbridge`: PutEvents on the default bus with a custom source. EventBridge wraps each entry in a new
 * envelope (its own id, account and region), so only the detail, detail-type, time and resources are ours.
 *
 * PutEvents answers 200 even when entries fail; failures are per entry (FailedEntryCount, ErrorCode, ErrorMessage),
 * e.g. NotAuthorizedForSourceException for an `aws.*` source (aws-facts §3). Every entry is checked.
 */
import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { awsCall } from '../aws/errors.js';
import { UsageError } from '../errors.js';
import type { JobStateChangeEvent } from '../events/types.js';
import { backoffDelay, sleep } from '../util/retry.js';
import { runPool } from './load.js';

/** PutEvents accepts at most 10 entries per call (EventBridge API reference, PutEvents Entries). */
export const PUT_EVENTS_MAX_ENTRIES = 10;

export function assertCustomSource(source: string): void {
  if (/^aws\./i.test(source))
    throw new UsageError('RESERVED_SOURCE', `The source "${source}" is reserved for AWS services: PutEvents would answer 200 but fail the entry with NotAuthorizedForSourceException, and nothing would be delivered.`, {
      hint: 'Use a custom source such as vidpipe.simulator (the default; config "simulatorSource") and let the rule match it ("allowSimulatorSource": true, then `vidpipe setup`).',
    });
  if (!/^[A-Za-z0-9._-]{1,256}$/.test(source))
    throw new UsageError('BAD_SOURCE', `The source "${source}" must be 1–256 letters, digits, dots, dashes or underscores.`);
}

export function toPutEventsEntry(event: JobStateChangeEvent, source: string): PutEventsRequestEntry {
  return {
    Source: source,
    DetailType: event['detail-type'],
    Detail: JSON.stringify(event.detail),
    Resources: event.resources,
    Time: new Date(event.detail.timestamp),
  };
}

export interface PutEventsOutcome {
  /** EventBridge's event id for each entry, in order (undefined for a failed entry). */
  entryIds: (string | undefined)[];
  failures: { index: number; jobId: string; status: string; errorCode: string; errorMessage: string }[];
  calls: number;
}

/** Entry errors PutEvents documents as retryable (API_PutEventsResultEntry); the others need the request changed. */
const RETRYABLE_ENTRY_ERRORS = new Set(['InternalFailure', 'ThrottlingException']);
/** Attempts per entry for a retryable failure, with the shared backoff: 100 ms doubling, capped at 1 s, full jitter. */
const MAX_ATTEMPTS = 4;
const BACKOFF = { baseMs: 100, maxMs: 1000 };

export async function putEventsBatched(
  client: Pick<EventBridgeClient, 'send'>,
  events: JobStateChangeEvent[],
  source: string,
  concurrency = 1,
): Promise<PutEventsOutcome> {
  const { PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
  const batches: number[] = [];
  for (let start = 0; start < events.length; start += PUT_EVENTS_MAX_ENTRIES) batches.push(start);
  const outcome: PutEventsOutcome = { entryIds: new Array(events.length), failures: [], calls: 0 };
  await runPool(batches, concurrency, async (start) => {
    let pending = events.slice(start, start + PUT_EVENTS_MAX_ENTRIES).map((_, i) => start + i);
    for (let attempt = 1; pending.length; attempt++) {
      const result = await awsCall({ action: 'events:PutEvents', resource: 'the default event bus' }, () =>
        client.send(new PutEventsCommand({ Entries: pending.map((index) => toPutEventsEntry(events[index]!, source)) })),
      );
      outcome.calls++;
      const retry: number[] = [];
      // PutEvents answers 200 whatever happened to the entries: each result entry, in request order, says.
      pending.forEach((index, i) => {
        const entry = result.Entries?.[i];
        if (entry?.EventId && !entry.ErrorCode) return void (outcome.entryIds[index] = entry.EventId);
        const errorCode = entry?.ErrorCode ?? 'Unknown';
        if (RETRYABLE_ENTRY_ERRORS.has(errorCode) && attempt < MAX_ATTEMPTS) return void retry.push(index);
        const event = events[index]!;
        outcome.failures.push({
          index,
          jobId: event.detail.jobId,
          status: event.detail.status,
          errorCode,
          errorMessage: entry?.ErrorMessage ?? (entry ? 'no EventId returned' : `missing from the answer (FailedEntryCount ${result.FailedEntryCount ?? 0})`),
        });
      });
      pending = retry;
      if (pending.length) await sleep(backoffDelay(attempt - 1, BACKOFF));
    }
  });
  outcome.failures.sort((a, b) => a.index - b.index);
  return outcome;
}

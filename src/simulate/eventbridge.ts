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
    const batch = events.slice(start, start + PUT_EVENTS_MAX_ENTRIES);
    const result = await awsCall({ action: 'events:PutEvents', resource: 'the default event bus' }, () =>
      client.send(new PutEventsCommand({ Entries: batch.map((e) => toPutEventsEntry(e, source)) })),
    );
    outcome.calls++;
    (result.Entries ?? []).forEach((entry, i) => {
      const index = start + i;
      if (entry.ErrorCode || !entry.EventId) {
        const event = batch[i]!;
        outcome.failures.push({
          index,
          jobId: event.detail.jobId,
          status: event.detail.status,
          errorCode: entry.ErrorCode ?? 'Unknown',
          errorMessage: entry.ErrorMessage ?? 'no EventId returned',
        });
      } else outcome.entryIds[index] = entry.EventId;
    });
    // FailedEntryCount is the authority: a count with no matching entry still means something was dropped.
    const flagged = (result.Entries ?? []).filter((e) => e.ErrorCode || !e.EventId).length;
    if ((result.FailedEntryCount ?? 0) > flagged)
      outcome.failures.push({ index: start, jobId: batch[0]!.detail.jobId, status: batch[0]!.detail.status, errorCode: 'Unknown', errorMessage: `FailedEntryCount ${result.FailedEntryCount} but only ${flagged} failed entries listed` });
  });
  outcome.failures.sort((a, b) => a.index - b.index);
  return outcome;
}

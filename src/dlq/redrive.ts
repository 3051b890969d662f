/**
 * `vidpipe dlq redrive`: sends each dead letter's event again — to the listener with the same POST, headers and
 * credentials an API destination uses (src/simulate/http.ts), or back onto the default bus with PutEvents — and
 * deletes a message only once its event was accepted. A rejected message stays in the queue (released at the end, so
 * this run does not see it twice) with the reason recorded. A listener that cannot be reached stops the run: every
 * message not yet sent is left as it was.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { HttpTarget } from '../simulate/http.js';
import { deleteLetter, receiveBatch, release, letterSummary, type DeadLetter } from './dlq.js';

export interface RedriveRejection {
  messageId: string;
  eventId?: string;
  jobId?: string;
  reason: string;
}

export interface RedriveSummary {
  via: 'http' | 'eventbridge';
  to: string;
  dryRun: boolean;
  accepted: number;
  /** What the listener said for the accepted ones: processed / duplicate / ignored (http), or "put" (eventbridge). */
  byOutcome: Record<string, number>;
  rejected: RedriveRejection[];
  /** Still in the queue after this run: the rejected ones and any not attempted. */
  left: number;
  /** Why the run stopped early, if it did. */
  stopped?: string;
  /** --dry-run: what would be sent. */
  wouldSend?: ReturnType<typeof letterSummary>[];
}

export type Sender = (letter: DeadLetter) => Promise<{ accepted: true; outcome: string } | { accepted: false; reason: string }>;

export interface RedriveOptions {
  sqs: SQSClient;
  queueUrl: string;
  via: 'http' | 'eventbridge';
  to: string;
  send: Sender;
  dryRun: boolean;
  max: number;
  onProgress?: (done: number, accepted: number, rejected: number) => void;
}

export async function redrive(options: RedriveOptions): Promise<RedriveSummary> {
  const { sqs, queueUrl } = options;
  const summary: RedriveSummary = { via: options.via, to: options.to, dryRun: options.dryRun, accepted: 0, byOutcome: {}, rejected: [], left: 0 };
  const held: DeadLetter[] = [];
  const handled = new Set<string>();
  let done = 0;
  try {
    while (handled.size < options.max) {
      const batch = (await receiveBatch(sqs, queueUrl)).filter((l) => {
        if (handled.has(l.messageId)) {
          // Received again (its visibility ran out while this run went on): keep holding it, do not send it twice.
          held.push(l);
          return false;
        }
        return true;
      });
      if (!batch.length) break;
      for (const letter of batch) {
        if (handled.size >= options.max) {
          held.push(letter);
          continue;
        }
        handled.add(letter.messageId);
        if (options.dryRun) {
          (summary.wouldSend ??= []).push(letterSummary(letter));
          held.push(letter);
          continue;
        }
        if (summary.stopped) {
          held.push(letter);
          continue;
        }
        let result: Awaited<ReturnType<Sender>>;
        try {
          result = await options.send(letter);
        } catch (err) {
          // Unreachable or refused at the connection level: nothing more can be delivered now.
          summary.stopped = (err as Error).message;
          held.push(letter);
          continue;
        }
        done++;
        if (result.accepted) {
          await deleteLetter(sqs, queueUrl, letter);
          summary.accepted++;
          summary.byOutcome[result.outcome] = (summary.byOutcome[result.outcome] ?? 0) + 1;
        } else {
          const s = letterSummary(letter);
          summary.rejected.push({ messageId: letter.messageId, ...(s.eventId ? { eventId: s.eventId } : {}), ...(s.jobId ? { jobId: s.jobId } : {}), reason: result.reason });
          held.push(letter);
        }
        options.onProgress?.(done, summary.accepted, summary.rejected.length);
      }
      if (summary.stopped) break;
    }
  } finally {
    // Whatever was read and not deleted goes back at once.
    await release(sqs, queueUrl, held);
  }
  const { queueDepth } = await import('./dlq.js');
  summary.left = await queueDepth(sqs, queueUrl).catch(() => held.length);
  return summary;
}

/** The listener answers like an API destination's endpoint: 2xx accepted (processed / duplicate / ignored), anything else rejected. */
export function httpSender(target: HttpTarget): Sender {
  return async (letter) => {
    if (!letter.event) return { accepted: false, reason: 'the message body is not a JSON event' };
    const { postEvent } = await import('../simulate/http.js');
    const answer = await postEvent(target, letter.event);
    if (answer.status >= 200 && answer.status < 300) {
      let outcome = 'accepted';
      try {
        outcome = (JSON.parse(answer.body) as { status?: string }).status ?? outcome;
      } catch {
        /* a 2xx without JSON is still accepted */
      }
      return { accepted: true, outcome };
    }
    let message = answer.body.replace(/\s+/g, ' ').trim().slice(0, 300);
    try {
      const parsed = JSON.parse(answer.body) as { error?: string; message?: string };
      message = [parsed.error, parsed.message].filter(Boolean).join(': ') || message;
    } catch {
      /* keep the text */
    }
    return { accepted: false, reason: `HTTP ${answer.status}${message ? ` ${message}` : ''}` };
  };
}

/**
 * Back through EventBridge. PutEvents refuses `aws.*` sources (NotAuthorizedForSourceException), so the event goes
 * with the simulator's source, which the rule matches only with allowSimulatorSource; EventBridge gives it a new id.
 */
export function eventBridgeSender(eb: EventBridgeClient, source: string): Sender {
  return async (letter) => {
    const event = letter.event;
    if (!event || typeof event.detail !== 'object' || typeof event['detail-type'] !== 'string')
      return { accepted: false, reason: 'the message body is not an EventBridge event (no detail / detail-type)' };
    const m = await import('@aws-sdk/client-eventbridge');
    const { awsCall } = await import('../aws/errors.js');
    const out = await awsCall({ action: 'events:PutEvents', resource: 'the default event bus' }, () =>
      eb.send(
        new m.PutEventsCommand({
          Entries: [
            {
              Source: source,
              DetailType: event['detail-type'] as string,
              Detail: JSON.stringify(event.detail),
              ...(Array.isArray(event.resources) ? { Resources: event.resources as string[] } : {}),
              ...(typeof event.time === 'string' ? { Time: new Date(event.time) } : {}),
            },
          ],
        }),
      ),
    );
    const entry = out.Entries?.[0];
    if (entry?.EventId && !entry.ErrorCode) return { accepted: true, outcome: 'put' };
    return { accepted: false, reason: `PutEvents: ${entry?.ErrorCode ?? 'Unknown'}: ${entry?.ErrorMessage ?? 'no EventId returned'}` };
  };
}

/**
 * When a job notifies, and what to do with a delivery's answer. Pure: the notifier (src/listener/notify) performs the
 * requests, this decides.
 *
 * Retry horizon: EventBridge retries a failing target for up to 24 hours (aws-facts.md §1.3, "Event retry policy"
 * in the EventBridge user guide), so a Slack outage of an hour must not lose a message either: 5xx, timeouts and
 * connection errors are retried with capped exponential backoff — at most ~5 minutes apart, jittered — for 24 hours
 * from the first attempt, then the row is marked failed (`vidpipe notifications retry` sends it again). Slack's
 * permanent answers (4xx such as invalid_payload, channel_not_found, 403, 404) fail at once; 429 waits Retry-After.
 */
import type { NormalisedEvent } from '../../events/normalise.js';
import type { Job } from './job-state.js';
import type { NotificationKind } from './store-port.js';

/** Only the event that decided the job's terminal state queues a notification; a redelivery or a late contradiction does not. */
export function notificationFor(event: NormalisedEvent, job: Job): NotificationKind | undefined {
  const status = event.detail?.status;
  if (status !== 'COMPLETE' && status !== 'ERROR') return undefined;
  if (job.statusEvent !== status || job.statusAt !== event.timestampMs || (job.statusEventId ?? '') !== event.eventId) return undefined;
  return status;
}

export interface RetrySchedule {
  /** First retry after about this long. */
  baseMs: number;
  /** Retries are at most this far apart (before jitter). */
  maxMs: number;
  /** Give up this long after the first attempt. */
  horizonMs: number;
  /** Give up after this many attempts, too (EventBridge: 185 retries, so 186 attempts). */
  maxAttempts?: number;
}

export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = { baseMs: 1000, maxMs: 5 * 60_000, horizonMs: 24 * 60 * 60_000 };

/** Slack's answer to one POST, as the notifier saw it. */
export type DeliveryResult =
  | { kind: 'answer'; status: number; body: string; retryAfterSeconds?: number }
  | { kind: 'timeout'; afterMs: number }
  | { kind: 'network'; code: string };

export type DeliveryVerdict =
  | { state: 'sent' }
  | { state: 'failed'; error: string }
  | { state: 'retry'; at: number; error: string; /** also spaces every later send (429) */ holdAllUntil?: number };

/**
 * Which answers a sender retries. Slack: 5xx, 408 and 429 (its other 4xx are permanent: aws-facts.md §6). An API
 * destination: "Retries events associated with error codes 401, 407, 409, 429, and 5xx" (EventBridge user guide,
 * aws-facts.md §1.3) — the forwarder relays as one would.
 */
export type RetryRules = 'slack' | 'eventbridge';

function retryable(status: number, rules: RetryRules): boolean {
  if (status >= 500) return true;
  return rules === 'slack' ? status === 408 || status === 429 : status === 401 || status === 407 || status === 409 || status === 429;
}

/**
 * `attempt` counts this one (1 for the first); `firstAttemptAt` is when the first was made. `random` is in [0, 1).
 */
export function judgeDelivery(
  result: DeliveryResult,
  o: { attempt: number; firstAttemptAt: number; now: number; schedule: RetrySchedule; random: () => number; minIntervalMs: number; rules?: RetryRules },
): DeliveryVerdict {
  const rules = o.rules ?? 'slack';
  if (result.kind === 'answer' && result.status >= 200 && result.status < 300) return { state: 'sent' };
  if (rules === 'slack' && result.kind === 'answer' && result.status === 429) {
    // Retry-After is in seconds (Slack's rate-limit doc); capped so a bad value cannot park the queue for days.
    const s = result.retryAfterSeconds;
    const waitMs = s !== undefined && Number.isFinite(s) && s > 0 ? Math.min(s, 3600) * 1000 : o.minIntervalMs;
    const at = o.now + waitMs;
    return { state: 'retry', at, error: `429 rate limited${result.body ? `: ${result.body}` : ''}`, holdAllUntil: at };
  }
  const transient = result.kind !== 'answer' || retryable(result.status, rules);
  const error =
    result.kind === 'timeout' ? `timed out after ${result.afterMs} ms` : result.kind === 'network' ? `network error ${result.code}` : `${result.status}${result.body ? ` ${result.body}` : ''}`;
  if (!transient) return { state: 'failed', error };
  const retryAfter = result.kind === 'answer' ? result.retryAfterSeconds : undefined;
  // EventBridge: "a negative Retry-After value stops retrying"; otherwise the more conservative of the two waits.
  if (rules === 'eventbridge' && retryAfter !== undefined && retryAfter < 0) return { state: 'failed', error: `${error} (Retry-After ${retryAfter}: not retried)` };
  const afterHeader = rules === 'eventbridge' && retryAfter !== undefined && Number.isFinite(retryAfter) ? Math.min(retryAfter, 3600) * 1000 : 0;
  const delay = Math.max(backoffDelay(o.attempt, o.schedule, o.random, o.minIntervalMs), afterHeader);
  const outOfTime = o.now + delay - o.firstAttemptAt > o.schedule.horizonMs;
  if (outOfTime || (o.schedule.maxAttempts !== undefined && o.attempt >= o.schedule.maxAttempts))
    return { state: 'failed', error: `${error} (gave up after ${o.attempt} attempts over ${formatDuration(o.now - o.firstAttemptAt)})` };
  return { state: 'retry', at: o.now + delay, error };
}

/** Capped exponential backoff with "equal jitter": half fixed, half random, so several listeners do not retry in lockstep. */
export function backoffDelay(attempt: number, schedule: Pick<RetrySchedule, 'baseMs' | 'maxMs'>, random: () => number, floorMs = 0): number {
  const exp = Math.min(schedule.maxMs, schedule.baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.max(floorMs, Math.round(exp / 2 + random() * (exp / 2)));
}

function formatDuration(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 2 * 3600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3600_000).toFixed(1)} h`;
}

/**
 * `listen --forward-to URL`: relays every newly stored event to the user's own app exactly as an EventBridge API
 * destination would send it (aws-facts.md §1.1): the body as received, `User-Agent: Amazon/EventBridge/ApiDestinations`,
 * `Content-Type: application/json; charset=utf-8`, `Range`, `Accept-Encoding`, and the connection's auth header (the
 * listener's own key) unless `--forward-header` overrides it. Like an API destination: a 5 s timeout; 401, 407, 409,
 * 429, 5xx, timeouts and connection errors are retried with backoff and jitter for up to 24 hours and 185 retries
 * (EventBridge's default retry policy, aws-facts.md §1.3–1.4), honouring Retry-After; other answers are final.
 *
 * Durable: each event's forwards row is written in the event's own transaction, so a restart resumes where it stopped,
 * and the event is stored and acknowledged whatever the app answers. In order per job: a job's later event waits
 * while an earlier one is pending (the claim enforces it); different jobs go out in parallel.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { DEFAULT_RETRY_SCHEDULE, judgeDelivery, type DeliveryResult, type RetrySchedule } from '../core/notification-policy.js';
import type { ClaimedForward, ForwardOutcome, ListenerStore } from '../core/store-port.js';
import { deliver } from './deliver.js';
import { WorkerLoop } from './worker-loop.js';

/** What an API destination sends besides the auth header (aws-facts.md §1.1). */
export const API_DESTINATION_HEADERS: Readonly<Record<string, string>> = {
  'user-agent': 'Amazon/EventBridge/ApiDestinations',
  'content-type': 'application/json; charset=utf-8',
  range: 'bytes=0-1048575',
  'accept-encoding': 'gzip,deflate',
};

/** EventBridge's default: 185 retries within 24 hours. */
export const FORWARD_RETRY_SCHEDULE: RetrySchedule = { ...DEFAULT_RETRY_SCHEDULE, maxAttempts: 186 };

export interface ForwardResult {
  forward: ClaimedForward;
  outcome: ForwardOutcome;
  ms: number;
}

export interface ForwarderOptions {
  store: ListenerStore;
  url: string;
  /** The auth header and any --forward-header values. Secrets: never logged. */
  headers: Record<string, string>;
  logger?: FastifyBaseLogger;
  clock?: () => number;
  random?: () => number;
  timeoutMs?: number;
  pollMs?: number;
  /** Rows sent at once (each of a different job). */
  concurrency?: number;
  retry?: Partial<RetrySchedule>;
  owner?: string;
  /** Each delivery's outcome (the live view prints the app's status and milliseconds). */
  onResult?: (result: ForwardResult) => void;
}

export class Forwarder extends WorkerLoop {
  private readonly timeoutMs: number;
  private readonly pollMs: number;
  private readonly concurrency: number;
  private readonly schedule: RetrySchedule;
  private readonly owner: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly options: ForwarderOptions) {
    const pollMs = options.pollMs ?? 1000;
    const timeoutMs = options.timeoutMs ?? 5000;
    super('forwarder', { logger: options.logger, clock: options.clock, random: options.random, pollMs, turnBudgetMs: timeoutMs });
    this.timeoutMs = timeoutMs;
    this.pollMs = pollMs;
    this.concurrency = options.concurrency ?? 4;
    this.schedule = { ...FORWARD_RETRY_SCHEDULE, ...options.retry };
    this.owner = options.owner ?? `forwarder-${randomUUID()}`;
    // Header names are case-insensitive: a --forward-header replaces the default of the same name.
    const merged = new Map<string, [string, string]>();
    for (const [k, v] of Object.entries({ ...API_DESTINATION_HEADERS, ...options.headers })) merged.set(k.toLowerCase(), [k, v]);
    this.headers = Object.fromEntries([...merged.values()]);
  }

  protected async turn(): Promise<number> {
    const now = this.clock();
    const claimed = await this.options.store.claimForwards(this.owner, now, this.timeoutMs + 10_000, this.concurrency);
    if (!claimed.length) {
      const next = await this.options.store.nextForwardDueAt();
      return Math.min(this.pollMs, next === undefined ? this.pollMs : Math.max(1, next - now));
    }
    await Promise.all(claimed.map((f) => this.deliver(f)));
    return 0;
  }

  private async deliver(f: ClaimedForward): Promise<void> {
    const started = this.clock();
    const result = await this.post(f.body);
    if (result === 'aborted') return; // stopping: the row stays pending and its lease expires
    const now = this.clock();
    const verdict = judgeDelivery(result, {
      attempt: f.attempts + 1,
      firstAttemptAt: f.firstAttemptAt ?? now,
      now,
      schedule: this.schedule,
      random: this.random,
      minIntervalMs: 0,
      rules: 'eventbridge',
    });
    const status = result.kind === 'answer' ? result.status : undefined;
    const outcome: ForwardOutcome =
      verdict.state === 'sent'
        ? { state: 'sent', status: status as number }
        : { ...verdict, ...(status !== undefined ? { status } : {}) };
    await this.persist(() => this.options.store.settleForward(f, outcome, now), 10_000);
    const fields = { eventId: f.eventId, jobId: f.jobId, attempt: f.attempts + 1, status, ms: now - started };
    if (verdict.state === 'sent') this.logger?.debug(fields, 'forwarded');
    else if (verdict.state === 'retry') this.logger?.warn({ ...fields, error: verdict.error, retryInMs: verdict.at - now }, 'forward will be retried');
    else this.logger?.error({ ...fields, reason: verdict.error }, 'forward failed');
    this.options.onResult?.({ forward: f, outcome, ms: now - started });
  }

  private post(body: string): Promise<DeliveryResult | 'aborted'> {
    // An API destination does not follow redirects (aws-facts.md §1.3).
    return deliver(this.options.url, { headers: this.headers, body, timeoutMs: this.timeoutMs, stop: this.stopController.signal, followRedirects: false });
  }
}

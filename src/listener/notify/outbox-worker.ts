/**
 * Drains the outbox to a Slack incoming webhook, in the listener's process but never on a request's path. Slack facts
 * (aws-facts.md §6): success is 200 `ok`; at most 1 message per second per webhook; 429 carries Retry-After in
 * seconds; other 4xx bodies (channel_not_found, invalid_payload…) are permanent. Rows persist in SQLite, so a restart
 * resumes where the last run stopped; a message may be sent twice if the process dies mid-request (at least once).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Notification, Store } from '../../store/store.js';
import { buildSlackMessage } from './slack-message.js';

export interface OutboxWorkerOptions {
  store: Store;
  /** SLACK_WEBHOOK_URL. A credential: never logged or stored. Without it, notifications are recorded as skipped. */
  webhookUrl: string | undefined;
  logger?: FastifyBaseLogger;
  clock?: () => number;
  /** Slack's incoming-webhook limit: 1 message per second. */
  minIntervalMs?: number;
  timeoutMs?: number;
  /** Attempts for 5xx and timeouts before the row is marked failed. */
  maxAttempts?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often to look for due rows when nothing wakes the worker. */
  pollMs?: number;
}

type Outcome = { state: 'sent' } | { state: 'failed' | 'skipped'; error: string; attempted: boolean } | { state: 'retry'; at: number; error: string } | { state: 'aborted' };

export class OutboxWorker {
  private readonly store: Store;
  private readonly clock: () => number;
  private readonly o: Required<Pick<OutboxWorkerOptions, 'minIntervalMs' | 'timeoutMs' | 'maxAttempts' | 'baseBackoffMs' | 'maxBackoffMs' | 'pollMs'>>;
  private running: Promise<void> | undefined;
  private stopping = false;
  private readonly stopController = new AbortController();
  private wakeUp: (() => void) | undefined;
  private nextSendAt = 0;

  constructor(private readonly options: OutboxWorkerOptions) {
    this.store = options.store;
    this.clock = options.clock ?? Date.now;
    this.o = {
      minIntervalMs: options.minIntervalMs ?? 1000,
      timeoutMs: options.timeoutMs ?? 5000,
      maxAttempts: options.maxAttempts ?? 8,
      baseBackoffMs: options.baseBackoffMs ?? 1000,
      maxBackoffMs: options.maxBackoffMs ?? 5 * 60_000,
      pollMs: options.pollMs ?? 5000,
    };
  }

  start(): void {
    this.running ??= this.loop().catch((err: unknown) => this.options.logger?.error({ err }, 'notifier stopped on an error'));
  }

  /** A batch with terminal events was committed: look now. */
  wake(): void {
    this.wakeUp?.();
  }

  /** Stops after the current attempt (an in-flight request is aborted and its row stays pending). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopController.abort();
    this.wakeUp?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const now = this.clock();
      const due = this.store.nextDueNotification(now);
      if (!due) {
        const next = this.store.nextNotificationDueAt();
        await this.sleep(Math.min(this.o.pollMs, next === undefined ? this.o.pollMs : Math.max(0, next - now)));
        continue;
      }
      if (this.options.webhookUrl && this.nextSendAt > now) {
        await this.sleep(this.nextSendAt - now);
        continue;
      }
      const outcome = await this.process(due);
      this.record(due, outcome);
    }
  }

  private record(n: Notification, outcome: Outcome): void {
    const now = this.clock();
    const log = this.options.logger;
    switch (outcome.state) {
      case 'aborted':
        return;
      case 'sent':
        this.store.settleNotification(n.id, 'sent', { attempted: true, now });
        log?.info({ jobId: n.jobId, kind: n.kind }, 'slack notification sent');
        return;
      case 'retry':
        this.store.retryNotification(n.id, outcome.at, outcome.error);
        log?.warn({ jobId: n.jobId, kind: n.kind, error: outcome.error, retryInMs: outcome.at - now }, 'slack notification will be retried');
        return;
      default:
        this.store.settleNotification(n.id, outcome.state, { attempted: outcome.attempted, error: outcome.error, now });
        log?.[outcome.state === 'failed' ? 'error' : 'info']({ jobId: n.jobId, kind: n.kind, reason: outcome.error }, `slack notification ${outcome.state}`);
    }
  }

  private async process(n: Notification): Promise<Outcome> {
    const webhookUrl = this.options.webhookUrl;
    if (!webhookUrl) return { state: 'skipped', error: 'SLACK_WEBHOOK_URL is not set', attempted: false };
    const job = this.store.getJob(n.jobId);
    // A newer terminal event replaced the one that queued this message (ERROR, then a later COMPLETE).
    if (!job || job.status !== n.kind) return { state: 'skipped', error: `superseded: the job is now ${job?.status ?? 'gone'}`, attempted: false };

    let response: Response;
    try {
      response = await fetch(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(buildSlackMessage(n.kind, job)),
        signal: AbortSignal.any([this.stopController.signal, AbortSignal.timeout(this.o.timeoutMs)]),
      });
    } catch (err) {
      this.spaceNextSend();
      if (this.stopping) return { state: 'aborted' };
      // Never the URL (it is the credential): only the kind of failure.
      const e = err as Error & { cause?: { code?: string } };
      const reason = e.name === 'TimeoutError' ? `timed out after ${this.o.timeoutMs} ms` : `network error ${e.cause?.code ?? e.name}`;
      return this.backoff(n, reason);
    }
    const body = (await response.text().catch(() => '')).slice(0, 200);
    this.spaceNextSend();
    if (response.ok) return { state: 'sent' };
    if (response.status === 429) {
      const seconds = Number(response.headers.get('retry-after'));
      // Retry-After is in seconds (Slack rate-limits doc); cap it so a bad value cannot park the queue for days.
      const waitMs = Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 3600) * 1000 : this.o.minIntervalMs;
      this.nextSendAt = this.clock() + waitMs;
      return { state: 'retry', at: this.nextSendAt, error: `429 rate limited${body ? `: ${body}` : ''}` };
    }
    if (response.status >= 500) return this.backoff(n, `${response.status}${body ? ` ${body}` : ''}`);
    return { state: 'failed', error: `${response.status} ${body || response.statusText}`.trim(), attempted: true };
  }

  /** Counted from the end of the last exchange, so Slack never sees two arrivals closer than the interval. */
  private spaceNextSend(): void {
    this.nextSendAt = this.clock() + this.o.minIntervalMs;
  }

  private backoff(n: Notification, reason: string): Outcome {
    const attempt = n.attempts + 1;
    if (attempt >= this.o.maxAttempts) return { state: 'failed', error: `${reason} (gave up after ${attempt} attempts)`, attempted: true };
    const exp = Math.min(this.o.maxBackoffMs, this.o.baseBackoffMs * 2 ** (attempt - 1));
    // Half fixed, half random ("equal jitter"): several listeners do not retry in lockstep.
    const delay = Math.max(this.o.minIntervalMs, Math.round(exp / 2 + Math.random() * (exp / 2)));
    return { state: 'retry', at: this.clock() + delay, error: reason };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }
}

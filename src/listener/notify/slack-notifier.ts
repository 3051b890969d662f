/**
 * Drains the outbox to a Slack incoming webhook, in the listener's process but never on a request's path. Slack facts
 * (aws-facts.md §6): success is 200 `ok`; at most 1 message per second per webhook; 429 carries Retry-After in seconds;
 * other 4xx bodies (channel_not_found, invalid_payload…) are permanent. What to do with each answer is decided by the
 * core's notification policy.
 *
 * Several listeners on one database: only the holder of the `slack-sender` lease sends (Slack's 1 message/s per webhook
 * holds across instances), and each row is claimed with a lease of its own, so two notifiers never send the same row;
 * a lease held by an instance that died expires and another takes over. A message in flight when its sender is killed
 * may be sent once more by the next holder (at least once).
 *
 * The loop never dies (worker-loop.ts): any error in a turn is logged and the turn retried with backoff.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { DEFAULT_RETRY_SCHEDULE, judgeDelivery, type DeliveryResult, type RetrySchedule } from '../core/notification-policy.js';
import type { ClaimedNotification, ListenerStore } from '../core/store-port.js';
import { buildSlackMessage } from './slack-message.js';
import { deliver } from './deliver.js';
import { WorkerLoop } from './worker-loop.js';

export const NO_WEBHOOK_REASON = 'SLACK_WEBHOOK_URL is not set';
export const SENDER_LEASE = 'slack-sender';

export interface SlackNotifierOptions {
  store: ListenerStore;
  /** SLACK_WEBHOOK_URL. A credential: never logged or stored. Without it, pending rows wait (and new ones are skipped). */
  webhookUrl: string | undefined;
  logger?: FastifyBaseLogger;
  clock?: () => number;
  /** In [0, 1): the retry jitter. */
  random?: () => number;
  /** Slack's incoming-webhook limit: 1 message per second. */
  minIntervalMs?: number;
  timeoutMs?: number;
  retry?: Partial<RetrySchedule>;
  /** How often to look for due rows when nothing wakes the notifier. */
  pollMs?: number;
  /** This instance's name in leases (default: a random id). */
  owner?: string;
}

export class SlackNotifier extends WorkerLoop {
  private readonly store: ListenerStore;
  private readonly minIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly pollMs: number;
  private readonly schedule: RetrySchedule;
  private readonly owner: string;
  /** A claimed row is ours for the request's timeout plus a margin; then another notifier may take it. */
  private readonly rowLeaseMs: number;
  /** The sender lease outlives a few turns, so a busy turn does not lose it; a dead holder's expires after this. */
  private readonly senderLeaseMs: number;
  private nextSendAt = 0;
  private holdsSender = false;

  constructor(private readonly options: SlackNotifierOptions) {
    const pollMs = options.pollMs ?? 5000;
    const timeoutMs = options.timeoutMs ?? 5000;
    super('notifier', { logger: options.logger, clock: options.clock, random: options.random, pollMs, turnBudgetMs: timeoutMs });
    this.store = options.store;
    this.minIntervalMs = options.minIntervalMs ?? 1000;
    this.timeoutMs = timeoutMs;
    this.pollMs = pollMs;
    this.schedule = { ...DEFAULT_RETRY_SCHEDULE, ...options.retry };
    this.owner = options.owner ?? `notifier-${randomUUID()}`;
    this.rowLeaseMs = this.timeoutMs + 10_000;
    this.senderLeaseMs = Math.max(15_000, 3 * this.pollMs, 2 * this.timeoutMs);
  }

  /** A batch with terminal events was committed: look now. */
  override wake(): void {
    if (this.options.webhookUrl) super.wake();
  }

  /** Stops after the current attempt (an in-flight request is aborted and its row stays pending). */
  override async stop(): Promise<void> {
    await super.stop();
    if (this.holdsSender) await this.store.releaseLease(SENDER_LEASE, this.owner).catch(() => undefined);
  }

  /** One look at the outbox: sends at most one message. Returns how long to wait before the next turn. */
  protected async turn(): Promise<number> {
    if (!this.options.webhookUrl) return this.pollMs; // pending rows wait for a webhook; new ones are stored skipped
    const now = this.clock();
    const held = await this.store.acquireLease(SENDER_LEASE, this.owner, now, this.senderLeaseMs);
    if (held && !this.holdsSender) {
      // Taken over from another instance: leave Slack its interval after that sender's last message.
      this.nextSendAt = Math.max(this.nextSendAt, now + this.minIntervalMs);
      this.options.logger?.debug({ owner: this.owner }, 'notifier: this instance is now the Slack sender');
    }
    this.holdsSender = held;
    if (!held) return this.pollMs;
    if (this.nextSendAt > now) return this.nextSendAt - now;

    const claimed = await this.store.claimNotification(this.owner, now, this.rowLeaseMs);
    if (!claimed) {
      const next = await this.store.nextNotificationDueAt();
      return Math.min(this.pollMs, next === undefined ? this.pollMs : Math.max(1, next - now));
    }
    await this.deliver(claimed);
    return 0;
  }

  private async deliver(n: ClaimedNotification): Promise<void> {
    const log = this.options.logger;
    const job = await this.store.getJob(n.jobId);
    // A newer terminal event replaced the one that queued this message (ERROR, then an earlier COMPLETE arrived late).
    if (!job || job.status !== n.kind) {
      await this.store.settleNotification(n, { state: 'skipped', attempted: false, error: `superseded: the job is now ${job?.status ?? 'gone'}` }, this.clock());
      return;
    }
    const result = await this.post(buildSlackMessage(n.kind, job));
    if (result === 'aborted') return; // stopping: the row stays pending and its lease expires
    const now = this.clock();
    this.nextSendAt = Math.max(this.nextSendAt, now + this.minIntervalMs);
    const verdict = judgeDelivery(result, {
      attempt: n.attempts + 1,
      firstAttemptAt: n.attempts === 0 ? now : (n.firstAttemptAt ?? n.createdAt),
      now,
      schedule: this.schedule,
      random: this.random,
      minIntervalMs: this.minIntervalMs,
    });
    if (verdict.state === 'retry' && verdict.holdAllUntil) this.nextSendAt = Math.max(this.nextSendAt, verdict.holdAllUntil);
    const kept = await this.persist(
      () =>
        this.store.settleNotification(
          n,
          verdict.state === 'sent' ? { state: 'sent', attempted: true } : verdict.state === 'failed' ? { state: 'failed', attempted: true, error: verdict.error } : verdict,
          now,
        ),
      this.rowLeaseMs - this.timeoutMs,
    );
    const fields = { jobId: n.jobId, kind: n.kind, attempt: n.attempts + 1 };
    if (!kept) log?.warn(fields, 'slack notification: lease lost while sending (another instance took the row)');
    else if (verdict.state === 'sent') log?.info(fields, 'slack notification sent');
    else if (verdict.state === 'retry') log?.warn({ ...fields, error: verdict.error, retryInMs: verdict.at - now }, 'slack notification will be retried');
    else log?.error({ ...fields, reason: verdict.error }, 'slack notification failed');
  }

  private post(message: unknown): Promise<DeliveryResult | 'aborted'> {
    return deliver(this.options.webhookUrl as string, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(message),
      timeoutMs: this.timeoutMs,
      stop: this.stopController.signal,
    });
  }
}

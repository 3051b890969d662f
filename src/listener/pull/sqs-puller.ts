/**
 * `listen --pull`: the listener's second transport. EventBridge delivers to an SQS queue (`setup --delivery sqs`) and
 * this loop long-polls it — no public URL needed — handing each message's event to the same ingest use-case the HTTP
 * route uses. A message is deleted only after its event is committed, so a crash or SIGKILL loses nothing: the
 * message reappears after its visibility timeout and the inbox's idempotency stores its event once.
 *
 * SQS facts used (Amazon SQS Developer Guide): long polling waits up to 20 s (`WaitTimeSeconds` ≤ 20) and a receive
 * returns at most 10 messages; a received message is hidden for the queue's visibility timeout, which
 * ChangeMessageVisibility extends (slow batches) or ends (0: hand it back at once); after `maxReceiveCount` receives the
 * redrive policy moves it to the dead-letter queue. A body that is not a MediaConvert job event is therefore neither
 * stored nor deleted: it is logged once and left for the redrive policy.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { FastifyBaseLogger } from 'fastify';
import type { NormalisedEvent } from '../../events/normalise.js';
import { parseEventText, type ParsedEvent } from '../../events/parse-event.js';
import { awsErrorName } from '../../aws/errors.js';
import type { IngestAnswer } from '../core/ingest.js';
import { backoffDelay } from '../core/notification-policy.js';
import { StoreUnavailableError, type Readiness } from '../core/store-port.js';

/** SQS's limits on one ReceiveMessage. */
const MAX_WAIT_SECONDS = 20;
const MAX_BATCH = 10;
/** A batch still busy after this long gets its messages hidden for another EXTEND_TO_SECONDS. */
const EXTEND_EVERY_MS = 15_000;
const EXTEND_TO_SECONDS = 60;
/** Message ids already reported as not an event (each is logged once, however often it is received). */
const REMEMBERED_REJECTS = 10_000;

export interface SqsPullerOptions {
  sqs: SQSClient;
  queueUrl: string;
  parse: (body: unknown) => ParsedEvent;
  ingest: (event: NormalisedEvent, text: string) => Promise<IngestAnswer>;
  logger?: FastifyBaseLogger;
  random?: () => number;
  clock?: () => number;
  waitSeconds?: number;
  /** Each message's outcome (the live view). */
  onIngested?: (answer: IngestAnswer, event: NormalisedEvent) => void;
}

export class SqsPuller {
  private stopping = false;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private failures = 0;
  private lastError: string | undefined;
  private lastReceiveAt: number;
  private readonly rejected = new Set<string>();
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly waitSeconds: number;

  constructor(private readonly o: SqsPullerOptions) {
    this.clock = o.clock ?? Date.now;
    this.random = o.random ?? Math.random;
    this.waitSeconds = Math.min(MAX_WAIT_SECONDS, o.waitSeconds ?? MAX_WAIT_SECONDS);
    this.lastReceiveAt = this.clock();
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Stops receiving, finishes the batch in flight (its unfinished messages are handed back), and resolves. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await this.running;
  }

  readiness(): Readiness {
    if (this.failures > 0) return { ready: false, reason: `cannot receive from ${this.o.queueUrl}: ${this.lastError ?? 'error'}` };
    const late = this.clock() - this.lastReceiveAt;
    if (late > (this.waitSeconds + 60) * 1000) return { ready: false, reason: `no receive from ${this.o.queueUrl} for ${Math.round(late / 1000)} s` };
    return { ready: true };
  }

  private async loop(): Promise<void> {
    const { ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');
    while (!this.stopping) {
      let messages: Array<{ MessageId?: string; ReceiptHandle?: string; Body?: string }>;
      try {
        const out = await this.o.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: this.o.queueUrl, MaxNumberOfMessages: MAX_BATCH, WaitTimeSeconds: this.waitSeconds, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
          { abortSignal: this.abort.signal },
        );
        messages = out.Messages ?? [];
        this.failures = 0;
        this.lastError = undefined;
        this.lastReceiveAt = this.clock();
      } catch (err) {
        if (this.stopping) break;
        this.failures += 1;
        this.lastError = describeReceiveError(err, this.o.queueUrl);
        // Backs off (capped at a minute): a missing queue or expired credentials never make the loop spin.
        const delay = backoffDelay(this.failures, { baseMs: 1000, maxMs: 60_000 }, this.random);
        this.o.logger?.error({ retryInMs: delay, awsError: awsErrorName(err) }, `pull: ${this.lastError}`);
        await this.sleep(delay);
        continue;
      }
      if (messages.length) await this.handle(messages);
    }
  }

  private async handle(messages: Array<{ MessageId?: string; ReceiptHandle?: string; Body?: string }>): Promise<void> {
    const sqs = await import('@aws-sdk/client-sqs');
    const inFlight = new Map(messages.map((m) => [m.MessageId as string, m]));
    // Slow batch (a busy database): keep its messages hidden while they are worked on.
    const extender = setInterval(() => {
      const entries = [...inFlight.values()].map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string, VisibilityTimeout: EXTEND_TO_SECONDS }));
      if (entries.length) void this.o.sqs.send(new sqs.ChangeMessageVisibilityBatchCommand({ QueueUrl: this.o.queueUrl, Entries: entries })).catch(() => undefined);
    }, EXTEND_EVERY_MS);
    const done: Array<{ MessageId?: string; ReceiptHandle?: string }> = [];
    const handBack: Array<{ MessageId?: string; ReceiptHandle?: string }> = [];
    try {
      await Promise.all(
        messages.map(async (m) => {
          const id = m.MessageId as string;
          const parsed = parseEventText(m.Body ?? '', this.o.parse);
          const reject = (why: string) => {
            inFlight.delete(id);
            if (this.rejected.has(id)) return;
            this.rejected.add(id);
            if (this.rejected.size > REMEMBERED_REJECTS) this.rejected.delete(this.rejected.values().next().value as string);
            this.o.logger?.warn({ messageId: id }, `pull: message ${id} left for the redrive policy: ${why}`);
          };
          if (!parsed.ok) return reject(`not an EventBridge event (${parsed.message})`);
          if (!parsed.event.processed) return reject(`not a MediaConvert job event (source ${parsed.event.source}, detail-type ${parsed.event.detailType})`);
          if (this.stopping) {
            handBack.push(m);
            return;
          }
          try {
            const answer = await this.o.ingest(parsed.event, m.Body as string);
            done.push(m);
            this.o.onIngested?.(answer, parsed.event);
          } catch (err) {
            // Not committed: the message stays, and comes back after its visibility timeout (or at once, on stop).
            handBack.push(m);
            if (!(err instanceof StoreUnavailableError)) this.o.logger?.error({ err, messageId: id }, 'pull: ingest failed');
            else this.o.logger?.warn({ messageId: id, reason: err.message }, 'pull: database unavailable; the message will be received again');
          } finally {
            inFlight.delete(id);
          }
        }),
      );
    } finally {
      clearInterval(extender);
    }
    // Deleted only now, after their events were committed; a failed delete only means a redelivery (a duplicate).
    for (let i = 0; i < done.length; i += MAX_BATCH) {
      const entries = done.slice(i, i + MAX_BATCH).map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle as string }));
      await this.o.sqs.send(new sqs.DeleteMessageBatchCommand({ QueueUrl: this.o.queueUrl, Entries: entries })).catch((err: unknown) => {
        this.o.logger?.warn({ awsError: awsErrorName(err) }, 'pull: delete failed; those messages will be received again and answered as duplicates');
      });
    }
    // On stop (or a database outage) the unfinished ones go back at once, for another puller.
    if (handBack.length && this.stopping) {
      const entries = handBack.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle as string, VisibilityTimeout: 0 }));
      await this.o.sqs.send(new sqs.ChangeMessageVisibilityBatchCommand({ QueueUrl: this.o.queueUrl, Entries: entries })).catch(() => undefined);
    }
    if (handBack.length && !this.stopping) await this.sleep(backoffDelay(1, { baseMs: 1000, maxMs: 5000 }, this.random));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopping) return resolve();
      const timer = setTimeout(resolve, ms);
      this.abort.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** One line a person can act on, naming the queue. */
export function describeReceiveError(err: unknown, queueUrl: string): string {
  const name = awsErrorName(err);
  if (/NonExistentQueue|QueueDoesNotExist/.test(name))
    return `the queue ${queueUrl} does not exist: run \`vidpipe setup --delivery sqs\` or pass --queue-url`;
  if (/AccessDenied|NotAuthorized|UnrecognizedClient|InvalidClientTokenId|ExpiredToken|CredentialsProvider/i.test(name) || /credential/i.test((err as Error)?.message ?? ''))
    return `AWS refused to receive from ${queueUrl} (${name}): check the credentials (--profile, AWS_PROFILE) and that they allow sqs:ReceiveMessage (\`vidpipe policy\`)`;
  const code = (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
  return `receiving from ${queueUrl} failed: ${code ?? name}: ${(err as Error)?.message ?? String(err)}`;
}

/**
 * Group commit, for any engine. Each request hands its event to submit(); everything queued while the previous commit
 * was running is written in ONE transaction, and only after that COMMIT is each request's promise resolved. One fsync
 * (SQLite) or one WAL flush (PostgreSQL) then covers a whole batch instead of one per request (issue 6: ≥ 30 % of bare
 * fastify's rate with every 2xx durable; one fsync per request gets ~9 %).
 *
 * How a batch is committed is the adapter's Committer: SQLite's on a worker thread or inline (sqlite/sqlite-committer.ts),
 * PostgreSQL's as a few set-based statements on a pooled connection (postgres/postgres-store.ts).
 */
import type { NormalisedEvent } from '../events/normalise.js';
import { StoreUnavailableError, type IngestResult, type Readiness } from '../listener/core/store-port.js';

/** A successful readiness probe stands this long. */
const PROBE_REUSE_MS = 1000;

/** An event to write, and the body exactly as received when known (stored as is, and how it crosses to a thread). */
export interface EventToWrite {
  event: NormalisedEvent;
  text?: string | undefined;
}

/** One event's outcome, in a form that crosses a thread boundary. */
export type EventOutcome = IngestResult | { failed: string };

export interface Committer {
  readonly available: boolean;
  /** How many commit() calls may be outstanding at once (the SQLite thread coalesces them; inline takes one). */
  readonly maxInFlight: number;
  /** Commits the batch in one transaction; one event's own failure is its `{ failed }` outcome, not a rejection. */
  commit(events: EventToWrite[], now: number): Promise<EventOutcome[]>;
  /** One small committed write (readiness): rejects when the database cannot take writes. */
  probe(now: number): Promise<void>;
  close(): Promise<void>;
}

interface Pending extends EventToWrite {
  resolve(result: IngestResult): void;
  reject(err: unknown): void;
}

export interface BatchWriterOptions {
  /** Upper bound on one transaction. */
  maxBatch?: number;
  clock?: () => number;
  /** Called after each committed batch that stored something new (wakes the outbox consumers, feeds live views). */
  onCommit?: (results: readonly IngestResult[]) => void;
  /** How many recently committed event ids are remembered to answer redeliveries without a read (see known()). */
  recentIds?: number;
}

/**
 * How many committed ids are answered from memory, before the body is even validated (ingestBody). An older
 * redelivery is told apart by the batch's INSERT … ON CONFLICT / OR IGNORE, in the same transaction as new events
 * (bench: duplicates of ids beyond this set). 8,192 ids (~1.5 MiB) cover a few seconds of a busy stream; 65,536 took
 * ~10 MiB of RSS (issue 17).
 */
const RECENT_IDS = 8_192;

export class BatchWriter {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  private readonly maxBatch: number;
  private readonly clock: () => number;
  /** Event id → job id of events this writer saw committed, oldest first (Map keeps insertion order). */
  private readonly recent = new Map<string, string | null>();
  private readonly recentMax: number;

  constructor(
    private readonly committer: Committer,
    private readonly options: BatchWriterOptions,
    /** How commits run ('thread', 'inline', 'pool'), for the start-up line and tests. */
    readonly mode: string,
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.clock = options.clock ?? Date.now;
    this.recentMax = options.recentIds ?? RECENT_IDS;
  }

  /** False once a writer thread has died (every write then answers 503). */
  get available(): boolean {
    return !this.closed && this.committer.available;
  }

  /** Why the last commit failed, until one succeeds (readiness). */
  lastFailure: string | undefined;

  /** The last successful probe: a failed one is never reused, so recovery shows at once. */
  private lastGoodProbeAt: number | undefined;

  /**
   * Whether a write would commit now, for /readyz: the writer lives, and a small committed write through the same
   * connection (and thread) as the events succeeds — a read-only file, a full disk, a held lock or a database that went
   * away fail it. A success stands for a second (load balancers probe often); a failure is never reused.
   */
  async readiness(): Promise<Readiness> {
    if (this.closed) return { ready: false, reason: 'the listener is shutting down' };
    if (!this.committer.available) return { ready: false, reason: 'the database writer has stopped' };
    const now = this.clock();
    if (this.lastGoodProbeAt !== undefined && now - this.lastGoodProbeAt < PROBE_REUSE_MS && !this.lastFailure) return { ready: true };
    try {
      await this.committer.probe(now);
    } catch (err) {
      this.lastGoodProbeAt = undefined;
      return { ready: false, reason: `the database does not take writes: ${(err as Error).message}` };
    }
    this.lastFailure = undefined;
    this.lastGoodProbeAt = now;
    return { ready: true };
  }

  /**
   * A redelivery of an event this writer committed (an id is only added once its COMMIT returned), answered from
   * memory: the job id it was recorded with. Undefined means "not known here", never "new": the caller reads the inbox.
   */
  known(eventId: string): { jobId: string | null } | undefined {
    const jobId = this.recent.get(eventId);
    return jobId === undefined ? undefined : { jobId };
  }

  private remember(result: IngestResult): void {
    if (this.recent.has(result.eventId)) return;
    this.recent.set(result.eventId, result.jobId);
    if (this.recent.size > this.recentMax) this.recent.delete(this.recent.keys().next().value as string);
  }

  /** Resolves once the event's transaction committed. `text`: the body exactly as received, when there is one. */
  submit(event: NormalisedEvent, text?: string): Promise<IngestResult> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the listener is shutting down'));
    return new Promise((resolve, reject) => {
      this.queue.push({ event, text, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    // Inline, one batch at a time. On the SQLite thread, batches are handed over as they form; the thread commits all
    // that arrived during its previous commit in one transaction, so no round trip sits between two commits. On
    // PostgreSQL a few batches commit at once on pooled connections.
    if (this.scheduled || this.queue.length === 0 || this.inFlight.size >= this.committer.maxInFlight) return;
    this.scheduled = true;
    // setImmediate runs after the poll phase: every request already readable joins this batch.
    setImmediate(() => {
      this.scheduled = false;
      const done: Promise<void> = this.dispatch().finally(() => {
        this.inFlight.delete(done);
        this.schedule();
      });
      this.inFlight.add(done);
    });
  }

  private async dispatch(): Promise<void> {
    const batch = this.queue.splice(0, this.maxBatch);
    let outcomes: EventOutcome[];
    try {
      outcomes = await this.committer.commit(batch, this.clock());
      this.lastFailure = undefined;
    } catch (err) {
      if (err instanceof StoreUnavailableError) this.lastFailure = err.message;
      for (const p of batch) p.reject(err);
      return;
    }
    const stored: IngestResult[] = [];
    batch.forEach((p, i) => {
      const o = outcomes[i] as EventOutcome;
      if ('failed' in o) p.reject(new Error(o.failed));
      else {
        if (o.status !== 'duplicate') stored.push(o);
        this.remember(o);
        p.resolve(o);
      }
    });
    if (stored.length) this.options.onCommit?.(stored);
  }

  /** Commits what is queued, refuses anything new, and closes the writer's connection. */
  async close(): Promise<void> {
    while (this.inFlight.size || this.scheduled || this.queue.length) {
      if (this.inFlight.size) await Promise.all(this.inFlight);
      else await new Promise((r) => setImmediate(r));
    }
    this.closed = true;
    await this.committer.close();
  }
}

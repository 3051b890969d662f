/**
 * Group commit. Each request hands its event to submit(); everything queued while the previous commit was running is
 * written in ONE transaction, and only after that COMMIT (WAL + synchronous=FULL: durable) is each request's promise
 * resolved. One fsync then covers a whole batch instead of one per request (issue 6: ≥ 30 % of bare fastify's rate
 * with every 2xx durable; one fsync per request gets ~9 %).
 *
 * The commit runs on a worker thread when the compiled worker is there (the built CLI): the event loop keeps parsing
 * and validating the next requests during the fsync, so the next batch forms while this one commits. Run from source
 * (the tests), it runs inline: the same transaction code, on the loop.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Db } from './db.js';
import type { IngestResult, Store, StoreOptions } from './store.js';
import type { NormalisedEvent } from '../events/normalise.js';

/** The database could not take the write (busy, locked, full, read-only, I/O error): the request should be retried. */
export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    readonly sqliteCode: string | undefined,
  ) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|PROTOCOL|NOMEM|CORRUPT|NOTADB)/;

export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && UNAVAILABLE.test(code);
}

/** An event to write, and the body exactly as received when known (stored as is, and how it crosses to the thread). */
export interface EventToWrite {
  event: NormalisedEvent;
  text?: string | undefined;
}

/**
 * An event as it crosses to the writer thread: its small normalised fields, and the body as text, parsed again
 * there. Structured-cloning the parsed body costs ~15 µs to send and ~20 µs to receive per COMPLETE event (2 KB of
 * JSON, nested); the text costs ~4 µs, and parsing it again ~6 µs (measured with v8.serialize/deserialize).
 */
export interface WireEvent {
  fields: Omit<NormalisedEvent, 'raw' | 'detail'>;
  text: string;
}

export function toWire({ event, text }: EventToWrite): WireEvent {
  const { raw, detail: _detail, ...fields } = event;
  return { fields, text: text ?? JSON.stringify(raw) };
}

export function fromWire(w: WireEvent): EventToWrite {
  const raw = JSON.parse(w.text) as Record<string, unknown>;
  // normaliseEvent() takes the detail from the body as it is: the same for an envelope and a curl-style body.
  const detail = w.fields.processed ? (raw.detail as NormalisedEvent['detail']) : undefined;
  return { event: { ...w.fields, raw, detail }, text: w.text };
}

/** One event's outcome, in a form that crosses a thread boundary. */
export type EventOutcome = IngestResult | { failed: string };

/** A whole batch that could not be written. */
export interface BatchFailure {
  message: string;
  code: string | undefined;
  unavailable: boolean;
}

export function describeBatchFailure(err: unknown): BatchFailure {
  const code = (err as { code?: unknown })?.code;
  return { message: (err as Error)?.message ?? String(err), code: typeof code === 'string' ? code : undefined, unavailable: isUnavailable(err) };
}

/**
 * The transaction both writers run: every event of the batch, then one COMMIT. First without savepoints (a SAVEPOINT
 * and RELEASE per event cost ~17 µs, a fifth of an event's statements); if any event fails for a reason other than
 * an unavailable database, that transaction is rolled back and the batch runs again with each event in its own
 * SAVEPOINT, so the failing event alone is refused.
 */
export function createBatchCommitter(db: Db, store: Store): (events: EventToWrite[], now: number) => EventOutcome[] {
  const all = db.transaction((events: EventToWrite[], now: number): EventOutcome[] => events.map((e) => store.recordEvent(e.event, now, e.text)));
  const recordOne = db.transaction((e: EventToWrite, now: number) => store.recordEvent(e.event, now, e.text));
  const eachApart = db.transaction((events: EventToWrite[], now: number) =>
    events.map((event): EventOutcome => {
      // One event failing (a bug, a constraint) rolls back that event only; an unavailable database fails the batch.
      try {
        return recordOne(event, now);
      } catch (err) {
        if (isUnavailable(err)) throw err;
        return { failed: (err as Error)?.message ?? String(err) };
      }
    }),
  );
  return (events, now) => {
    try {
      return all.immediate(events, now);
    } catch (err) {
      if (isUnavailable(err)) throw err;
      return eachApart.immediate(events, now);
    }
  };
}

interface Committer {
  readonly available: boolean;
  /** True when commit() may be called again before the previous one settled (the thread coalesces them). */
  readonly pipelined: boolean;
  commit(events: EventToWrite[], now: number): Promise<EventOutcome[]>;
  close(): Promise<void>;
}

class InlineCommitter implements Committer {
  readonly available = true;
  readonly pipelined = false;
  private readonly run: (events: EventToWrite[], now: number) => EventOutcome[];
  constructor(db: Db, store: Store) {
    this.run = createBatchCommitter(db, store);
  }
  async commit(events: EventToWrite[], now: number): Promise<EventOutcome[]> {
    try {
      return this.run(events, now);
    } catch (err) {
      throw toError(describeBatchFailure(err));
    }
  }
  async close(): Promise<void> {}
}

function toError(f: BatchFailure): Error {
  return f.unavailable ? new StoreUnavailableError(`database unavailable: ${f.message}`, f.code) : new Error(f.message);
}

export interface WriteWorkerData {
  dbPath: string;
  storeOptions: StoreOptions;
}

export type WriteWorkerRequest = { type: 'batch'; id: number; events: WireEvent[]; now: number } | { type: 'close' };
export type WriteWorkerReply = { id: number; outcomes: EventOutcome[] } | { id: number; failure: BatchFailure } | { type: 'ready' } | { type: 'open-failed'; failure: BatchFailure };

class ThreadCommitter implements Committer {
  readonly pipelined = true;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(o: EventOutcome[]): void; reject(e: unknown): void }>();
  private dead: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (msg: WriteWorkerReply) => {
      if (!('id' in msg)) return;
      const w = this.waiting.get(msg.id);
      this.waiting.delete(msg.id);
      if ('outcomes' in msg) w?.resolve(msg.outcomes);
      else w?.reject(toError(msg.failure));
    });
    const fail = (why: string) => {
      // The writer is gone: every waiting and later request gets a 503, so EventBridge redelivers.
      this.dead = new StoreUnavailableError(`database writer stopped: ${why}`, undefined);
      for (const w of this.waiting.values()) w.reject(this.dead);
      this.waiting.clear();
    };
    worker.on('error', (err) => fail(err.message));
    worker.on('exit', (code) => fail(`exit ${code}`));
  }

  get available(): boolean {
    return this.dead === undefined;
  }

  static async start(url: URL, data: WriteWorkerData): Promise<ThreadCommitter> {
    const worker = new Worker(url, { workerData: data });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (msg: WriteWorkerReply) => {
        if ('type' in msg && msg.type === 'ready') resolve();
        else if ('type' in msg && msg.type === 'open-failed') reject(toError(msg.failure));
      };
      worker.once('message', onMessage);
      worker.once('error', reject);
    });
    return new ThreadCommitter(worker);
  }

  commit(events: EventToWrite[], now: number): Promise<EventOutcome[]> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'batch', id, events: events.map(toWire), now } satisfies WriteWorkerRequest);
    });
  }

  async close(): Promise<void> {
    if (this.dead) return;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage({ type: 'close' } satisfies WriteWorkerRequest);
    await exited;
  }
}

interface Pending extends EventToWrite {
  resolve(result: IngestResult): void;
  reject(err: unknown): void;
}

export interface BatchWriterOptions {
  /** Upper bound on one transaction. */
  maxBatch?: number;
  clock?: () => number;
  /** Called after each committed batch that processed something (wakes the notifier). */
  onCommit?: () => void;
  /** How many recently committed event ids are remembered to answer redeliveries without a read (see known()). */
  recentIds?: number;
}

/** EventBridge redelivers within seconds to hours; 65,536 ids (~10 MiB) cover minutes of a busy stream. */
const RECENT_IDS = 65_536;

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

  private constructor(
    private readonly committer: Committer,
    private readonly options: BatchWriterOptions,
    /** 'thread' or 'inline', for the start-up line and tests. */
    readonly mode: 'thread' | 'inline',
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.clock = options.clock ?? Date.now;
    this.recentMax = options.recentIds ?? RECENT_IDS;
  }

  /** Inline: commits on the event loop with this connection. */
  static inline(db: Db, store: Store, options: BatchWriterOptions = {}): BatchWriter {
    return new BatchWriter(new InlineCommitter(db, store), options, 'inline');
  }

  /** On a worker thread with its own connection, when the compiled worker exists; inline otherwise. */
  static async start(db: Db, store: Store, data: WriteWorkerData, options: BatchWriterOptions = {}): Promise<BatchWriter> {
    const url = new URL('./write-worker.js', import.meta.url);
    if (!existsSync(fileURLToPath(url))) return BatchWriter.inline(db, store, options);
    return new BatchWriter(await ThreadCommitter.start(url, data), options, 'thread');
  }

  /** False once a writer thread has died (every write then answers 503). */
  get available(): boolean {
    return !this.closed && this.committer.available;
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
    if (this.closed) return Promise.reject(new StoreUnavailableError('the listener is shutting down', undefined));
    return new Promise((resolve, reject) => {
      this.queue.push({ event, text, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    // Inline, one batch at a time. On the thread, batches are handed over as they form; the thread commits all
    // that arrived during its previous commit in one transaction, so no round trip sits between two commits.
    if (this.scheduled || this.queue.length === 0 || (this.inFlight.size && !this.committer.pipelined)) return;
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
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    let processed = false;
    batch.forEach((p, i) => {
      const o = outcomes[i] as EventOutcome;
      if ('failed' in o) p.reject(new Error(o.failed));
      else {
        processed ||= o.status === 'processed';
        this.remember(o);
        p.resolve(o);
      }
    });
    if (processed) this.options.onCommit?.();
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

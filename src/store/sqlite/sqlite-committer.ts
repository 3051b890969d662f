/**
 * How the SQLite adapter commits a batch: the transaction both ways run (createBatchCommitter), inline on the event
 * loop, or on a worker thread with its own connection (write-worker.ts).
 *
 * The thread lets the event loop parse and validate the next requests while a batch commits, but it costs: each event
 * crosses as text and is parsed again there (~25 µs of CPU per event in all, with both postMessage hops), and the
 * thread's own V8 heap is ~40 MiB of RSS. On 2 cores that parallelism is not there to buy: the writer thread, the event
 * loop, V8's GC threads (and, in the benchmark, the load generator) share them. Measured (issue 17, `npm run bench`
 * machine, 2 cores, 30,000 events at 20 connections, 3 alternating runs each): thread 3,241 / 3,248 / 3,316 events/s,
 * ~325 µs of listener CPU per event, RSS ~160 MiB; inline 3,088 / 3,263 / 3,667 events/s, ~260 µs, RSS ~120 MiB.
 * So 'auto' runs inline on 1–2 cores and on the thread from 3 (VIDPIPE_SQLITE_WRITER=thread|inline overrides). Run from
 * source (the tests), there is no compiled worker: inline, the same transaction code.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { setPageCache, WRITER_CACHE_MIB, type Db } from './db.js';
import type { Queries, QueriesOptions } from './queries.js';
import type { NormalisedEvent } from '../../events/normalise.js';
import { StoreUnavailableError } from '../../listener/core/store-port.js';
import type { Committer, EventOutcome, EventToWrite } from '../batch-writer.js';

const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|PROTOCOL|NOMEM|CORRUPT|NOTADB)/;

export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && UNAVAILABLE.test(code);
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
export function createBatchCommitter(db: Db, store: Queries): (events: EventToWrite[], now: number) => EventOutcome[] {
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

export class InlineCommitter implements Committer {
  readonly available = true;
  readonly maxInFlight = 1;
  private readonly run: (events: EventToWrite[], now: number) => EventOutcome[];
  constructor(
    db: Db,
    private readonly store: Queries,
  ) {
    this.run = createBatchCommitter(db, store);
    // This connection now commits the batches: the writer's page cache (db.ts).
    setPageCache(db, WRITER_CACHE_MIB);
  }
  async commit(events: EventToWrite[], now: number): Promise<EventOutcome[]> {
    try {
      return this.run(events, now);
    } catch (err) {
      throw toError(describeBatchFailure(err));
    }
  }
  async probe(now: number): Promise<void> {
    try {
      this.store.probeWrite(now);
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
  queriesOptions: QueriesOptions;
}

export type WriteWorkerRequest = { type: 'batch'; id: number; events: WireEvent[]; now: number } | { type: 'probe'; id: number; now: number } | { type: 'close' };
export type WriteWorkerReply = { id: number; outcomes: EventOutcome[] } | { id: number; probed: true } | { id: number; failure: BatchFailure } | { type: 'ready' } | { type: 'open-failed'; failure: BatchFailure };

export class ThreadCommitter implements Committer {
  readonly maxInFlight = Number.POSITIVE_INFINITY;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(o: EventOutcome[]): void; reject(e: unknown): void }>();
  private dead: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (msg: WriteWorkerReply) => {
      if (!('id' in msg)) return;
      const w = this.waiting.get(msg.id);
      this.waiting.delete(msg.id);
      if ('outcomes' in msg) w?.resolve(msg.outcomes);
      else if ('probed' in msg) w?.resolve([]);
      else w?.reject(toError(msg.failure));
    });
    const fail = (why: string) => {
      // The writer is gone: every waiting and later request gets a 503, so EventBridge redelivers.
      this.dead = new StoreUnavailableError(`database writer stopped: ${why}`);
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
    // The thread's own V8 heap: a young generation of at most 12 MiB (V8's default lets it grow larger under a
    // steady stream of short-lived objects). Measured (issue 17, 30,000 events): ~10 MiB less RSS, same events/s.
    const worker = new Worker(url, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 12 } });
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

  async probe(now: number): Promise<void> {
    if (this.dead) throw this.dead;
    const id = this.nextId++;
    await new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'probe', id, now } satisfies WriteWorkerRequest);
    });
  }

  async close(): Promise<void> {
    if (this.dead) return;
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage({ type: 'close' } satisfies WriteWorkerRequest);
    await exited;
  }
}

export type SqliteWriterMode = 'inline' | 'thread' | 'auto';

/** 'auto': the worker thread from 3 cores on, inline below (see the top of this file). */
const THREAD_FROM_CORES = 3;

/** On a worker thread with its own connection (when the compiled worker exists: the built CLI), or inline. */
export async function startSqliteCommitter(db: Db, queries: Queries, data: WriteWorkerData, mode: SqliteWriterMode): Promise<{ committer: Committer; mode: 'thread' | 'inline' }> {
  const url = new URL('./write-worker.js', import.meta.url);
  const wantThread = mode === 'thread' || (mode === 'auto' && availableParallelism() >= THREAD_FROM_CORES);
  if (!wantThread || !existsSync(fileURLToPath(url))) return { committer: new InlineCommitter(db, queries), mode: 'inline' };
  return { committer: await ThreadCommitter.start(url, data), mode: 'thread' };
}

/**
 * The PostgreSQL adapter of the store port: several listener instances on one database, with the guarantees one
 * instance has on SQLite.
 *
 * - Each event id is stored once, whichever instance receives it: the inbox's primary key, INSERT … ON CONFLICT DO
 *   NOTHING.
 * - No read-modify-write race on a job: a batch takes a transaction-scoped advisory lock per job id, in sorted order
 *   (so two batches never wait on each other in a cycle), before it reads, folds and writes them. A post is not
 *   written at all: it is read from its newest job (getPost), so instances never race on one.
 * - Group commit: events that arrive while a batch commits form the next batch, written with a fixed number of
 *   set-based statements (json_populate_recordset) — a burst is not one round trip per event. A few batches commit at
 *   once on pooled connections. COMMIT returns once the WAL is flushed (synchronous_commit on, the default).
 * - The outbox is claimed with FOR UPDATE SKIP LOCKED and a lease; the single Slack sender holds a lease row.
 * - A database that goes away (restart, network cut) makes writes fail with StoreUnavailableError (503, the sender
 *   retries); the pool opens new connections when it is back, so the listener recovers without a restart.
 */
import pg from 'pg';
import type { Pool, PoolClient } from 'pg';
import type { NormalisedEvent } from '../../events/normalise.js';
import { UsageError, VidpipeError } from '../../errors.js';
import { foldEvent } from '../../listener/core/ingest.js';
import type { Job } from '../../listener/core/job-state.js';
import {
  decodeCursor,
  encodeCursor,
  StoreUnavailableError,
  type ClaimedForward,
  type ClaimedNotification,
  type EventBody,
  type Forward,
  type ForwardOutcome,
  type IngestResult,
  type JobEventRow,
  type ListenerStore,
  type ListVideosQuery,
  type Notification,
  type NotificationListItem,
  type NotificationQuery,
  type Post,
  type Readiness,
  type RequeueSelection,
  type VideoPage,
} from '../../listener/core/store-port.js';
import { BatchWriter, type Committer, type EventOutcome, type EventToWrite } from '../batch-writer.js';
import { forwardFromRow, JOB_COLUMNS, jobFromRow, jobToParams, notificationFromRow, postFromJobRow, type JobRow } from '../rows.js';
import { migratePostgres, quoteIdent } from './migrations.js';
import { describePgError, isPgUnavailable, isPgRetryable } from './pg-errors.js';

export interface PostgresStoreOptions {
  url: string;
  /** The URL with the password redacted: the only form that reaches a message. */
  redacted: string;
  schema: string;
  skipNotificationsReason?: string;
  /** Every newly stored event also gets a forwards row (`listen --forward-to`). */
  forwardEvents?: boolean;
  clock?: () => number;
  /** Pool size (default 10). */
  maxConnections?: number;
}

/** bigint (int8) columns hold epoch milliseconds and counts, all within 2^53: read them as numbers, not strings. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
};

/** Batches committing at once: enough to overlap a round trip with the next batch forming, few enough to stay large. */
const MAX_IN_FLIGHT = 3;
/** A serialization failure or deadlock is retried this many times before the batch answers 503. */
const TX_RETRIES = 3;

export class PostgresStore implements ListenerStore {
  readonly engine = 'postgresql' as const;
  readonly writeMode = 'group commit on a connection pool';
  private readonly listeners: Array<(results: readonly IngestResult[]) => void> = [];
  private readonly S: string;
  readonly writer: BatchWriter;

  private constructor(
    readonly pool: Pool,
    private readonly options: PostgresStoreOptions,
    private readonly clock: () => number,
  ) {
    this.S = quoteIdent(options.schema);
    this.writer = new BatchWriter(new PgCommitter(this), { clock, onCommit: (r) => this.listeners.forEach((l) => l(r)) }, 'pool');
  }

  get location(): string {
    return `${this.options.redacted} (schema ${this.options.schema})`;
  }

  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 10,
      // A request waits at most this long for a connection; EventBridge gives a target 5 s (aws-facts.md §1.3).
      connectionTimeoutMillis: 3000,
      idleTimeoutMillis: 30_000,
      types,
      application_name: 'vidpipe-listener',
    });
    // An idle connection that breaks (server restart, network cut) is reported here; without a handler it would
    // crash the process. The pool replaces it on the next checkout.
    pool.on('error', () => undefined);
    const where = options.redacted;
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw startupError(err, where);
    }
    try {
      await migratePostgres(client, options.schema, where);
    } catch (err) {
      client.release();
      await pool.end().catch(() => undefined);
      if (err instanceof VidpipeError) throw err;
      throw startupError(err, where);
    }
    client.release();
    return new PostgresStore(pool, options, options.clock ?? Date.now);
  }

  onCommit(listener: (results: readonly IngestResult[]) => void): void {
    this.listeners.push(listener);
  }

  lookupEvent(eventId: string): { jobId: string | null } | undefined {
    // Memory only: a read would cost a round trip per request, and the batch's INSERT … ON CONFLICT tells duplicates
    // apart anyway.
    return this.writer.known(eventId);
  }

  recordEvent(event: NormalisedEvent, bodyText?: string): Promise<IngestResult> {
    return this.writer.submit(event, bodyText);
  }

  /** One transaction for the whole batch (see the header). Called by PgCommitter. */
  async commitBatch(events: EventToWrite[], now: number): Promise<EventOutcome[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transaction((c) => this.writeBatch(c, events, now));
      } catch (err) {
        if (isPgRetryable(err) && attempt < TX_RETRIES) continue;
        if (isPgUnavailable(err) || isPgRetryable(err)) throw new StoreUnavailableError(`database unavailable: ${describePgError(err)}`, (err as { code?: string }).code);
        if (events.length === 1) return [{ failed: describePgError(err) }];
        // One event broke the batch (a bug, a constraint): each on its own, so only that one is refused.
        const out: EventOutcome[] = [];
        for (const e of events) out.push(...(await this.commitBatch([e], now)));
        return out;
      }
    }
  }

  private async writeBatch(c: PoolClient, events: EventToWrite[], now: number): Promise<EventOutcome[]> {
    const S = this.S;
    // Within the batch, the first of two events with one id is the one stored.
    const firstIndex = new Map<string, number>();
    events.forEach((e, i) => firstIndex.has(e.event.eventId) || firstIndex.set(e.event.eventId, i));
    const unique = [...firstIndex.values()].map((i) => events[i] as EventToWrite);

    const inboxRows = unique.map(({ event, text }) => ({
      event_id: event.eventId,
      source: event.source,
      detail_type: event.detailType,
      outcome: event.processed ? 'processed' : 'ignored',
      job_id: event.detail?.jobId ?? null,
      status: event.detail?.status ?? null,
      event_time: event.time ?? null,
      detail_timestamp: event.timestampMs ?? null,
      received_at: now,
      body: text ?? JSON.stringify(event.raw),
    }));
    const inserted = new Set(
      (
        await c.query<{ event_id: string }>(
          `INSERT INTO ${S}.inbox SELECT * FROM json_populate_recordset(NULL::${S}.inbox, $1) ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
          [JSON.stringify(inboxRows)],
        )
      ).rows.map((r) => r.event_id),
    );
    if (this.options.forwardEvents && inserted.size) {
      // In arrival order (ids follow it): a job's events are relayed in the order they were stored.
      const fresh = unique.filter((e) => inserted.has(e.event.eventId)).map((e) => e.event);
      await c.query(
        `INSERT INTO ${S}.forwards (event_id, job_id, next_attempt_at, created_at)
         SELECT e, j, $3, $3 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(e, j, n) ORDER BY n`,
        [fresh.map((e) => e.eventId), fresh.map((e) => e.detail?.jobId ?? null), now],
      );
    }
    const known = new Map<string, string | null>();
    const notInserted = unique.filter((e) => !inserted.has(e.event.eventId)).map((e) => e.event.eventId);
    if (notInserted.length)
      for (const r of (await c.query<{ event_id: string; job_id: string | null }>(`SELECT event_id, job_id FROM ${S}.inbox WHERE event_id = ANY($1)`, [notInserted])).rows)
        known.set(r.event_id, r.job_id);

    // The new, processed events, grouped by job: 3 statements (the job locks, the job read, the jobs upsert with the
    // outbox insert). A post is read from its newest job (getPost), so nothing here writes or locks one: without the
    // post's lock, newest-job read and upsert a batch takes 6 statements instead of 7, +20 % events/s (issue 17).
    const fresh = unique.filter((e) => inserted.has(e.event.eventId) && e.event.processed && e.event.detail && e.event.timestampMs !== undefined);
    if (fresh.length) {
      const jobIds = [...new Set(fresh.map((e) => (e.event.detail as { jobId: string }).jobId))].sort();
      await lockJobs(c, jobIds);
      const jobs = new Map<string, Job | undefined>();
      for (const r of (await c.query<JobRow>(`SELECT * FROM ${S}.jobs WHERE job_id = ANY($1)`, [jobIds])).rows) jobs.set(r.job_id, jobFromRow(r));
      const outbox: Record<string, unknown>[] = [];
      const skip = this.options.skipNotificationsReason;
      for (const { event } of fresh) {
        const jobId = (event.detail as { jobId: string }).jobId;
        const { job, notify } = foldEvent(jobs.get(jobId), event);
        jobs.set(jobId, job);
        if (notify)
          outbox.push({ job_id: jobId, kind: notify, event_id: event.eventId, next_attempt_at: now, created_at: now, state: skip ? 'skipped' : 'pending', last_error: skip ?? null });
      }
      const jobRows = [...jobs.values()].map((j) => jobToParams(j as Job, now));
      await c.query(
        `WITH up AS (
           INSERT INTO ${S}.jobs (${JOB_COLUMNS.join(', ')}) SELECT ${JOB_COLUMNS.join(', ')} FROM json_populate_recordset(NULL::${S}.jobs, $1)
           ON CONFLICT (job_id) DO UPDATE SET ${JOB_COLUMNS.filter((x) => x !== 'job_id').map((x) => `${x} = excluded.${x}`).join(', ')}
         )
         INSERT INTO ${S}.outbox (job_id, kind, event_id, next_attempt_at, created_at, state, last_error)
         SELECT job_id, kind, event_id, next_attempt_at, created_at, state, last_error FROM json_populate_recordset(NULL::${S}.outbox, $2)
         ON CONFLICT (job_id, kind) DO NOTHING`,
        [JSON.stringify(jobRows), JSON.stringify(outbox)],
      );
    }

    return events.map((e, i): EventOutcome => {
      const { event } = e;
      const jobId = event.detail?.jobId ?? null;
      if (firstIndex.get(event.eventId) !== i || !inserted.has(event.eventId))
        return { status: 'duplicate', eventId: event.eventId, jobId: known.get(event.eventId) ?? jobId };
      if (!event.processed || !event.detail || event.timestampMs === undefined) return { status: 'ignored', eventId: event.eventId, jobId };
      return { status: 'processed', eventId: event.eventId, jobId };
    });
  }

  async getJob(jobId: string): Promise<Job | undefined> {
    const r = (await this.query<JobRow>(`SELECT * FROM ${this.S}.jobs WHERE job_id = $1`, [jobId])).rows[0];
    return r && jobFromRow(r);
  }

  async listJobEvents(jobId: string): Promise<JobEventRow[]> {
    const rows = (
      await this.query<Record<string, unknown>>(
        `SELECT event_id, status, detail_timestamp, event_time, source, received_at FROM ${this.S}.inbox WHERE job_id = $1 ORDER BY detail_timestamp, event_id`,
        [jobId],
      )
    ).rows;
    return rows.map((r) => ({
      eventId: r.event_id as string,
      status: r.status as string | null,
      detailTimestamp: r.detail_timestamp as number | null,
      eventTime: r.event_time as string | null,
      source: r.source as string,
      receivedAt: r.received_at as number,
    }));
  }

  async getEventBodies(eventIds: readonly string[]): Promise<EventBody[]> {
    if (!eventIds.length) return [];
    const rows = (
      await this.query<{ event_id: string; job_id: string | null; body: string }>(`SELECT event_id, job_id, body FROM ${this.S}.inbox WHERE event_id = ANY($1)`, [
        [...eventIds],
      ])
    ).rows;
    const byId = new Map(rows.map((r) => [r.event_id, r]));
    return eventIds.flatMap((id) => {
      const r = byId.get(id);
      return r ? [{ eventId: r.event_id, jobId: r.job_id, body: r.body }] : [];
    });
  }

  async listVideos(query: ListVideosQuery): Promise<VideoPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.status) {
      params.push(query.status);
      where.push(`status = $${params.length}`);
    }
    if (query.cursor) {
      const c = decodeCursor(query.cursor);
      params.push(c.at, c.id);
      where.push(`(first_event_at, job_id) < ($${params.length - 1}, $${params.length})`);
    }
    params.push(query.limit + 1);
    const rows = (
      await this.query<JobRow>(
        `SELECT * FROM ${this.S}.jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY first_event_at DESC, job_id DESC LIMIT $${params.length}`,
        params,
      )
    ).rows;
    const more = rows.length > query.limit;
    const videos = rows.slice(0, query.limit).map(jobFromRow);
    const last = videos.at(-1);
    return { videos, nextCursor: more && last ? encodeCursor(last.firstEventAt, last.jobId) : null };
  }

  async getPost(postId: string): Promise<Post | undefined> {
    const q = `SELECT * FROM ${this.S}.jobs WHERE post_id = $1 ORDER BY first_event_at DESC, job_id DESC LIMIT 1`;
    const r = (await this.query<JobRow>(q, [postId])).rows[0];
    return r && postFromJobRow(r);
  }

  async notificationsForJob(jobId: string): Promise<Notification[]> {
    return (await this.query<Record<string, unknown>>(`SELECT * FROM ${this.S}.outbox WHERE job_id = $1 ORDER BY id`, [jobId])).rows.map(notificationFromRow);
  }

  async listNotifications(query: NotificationQuery): Promise<NotificationListItem[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.ids?.length) {
      params.push(query.ids);
      where.push(`o.id = ANY($${params.length})`);
    }
    if (query.states?.length) {
      params.push(query.states);
      where.push(`o.state = ANY($${params.length})`);
    }
    if (query.jobId) {
      params.push(query.jobId);
      where.push(`o.job_id = $${params.length}`);
    }
    params.push(query.limit);
    const rows = (
      await this.query<Record<string, unknown>>(
        `SELECT o.*, j.post_id FROM ${this.S}.outbox o JOIN ${this.S}.jobs j ON j.job_id = o.job_id ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY o.id DESC LIMIT $${params.length}`,
        params,
      )
    ).rows;
    return rows.map((r) => ({ ...notificationFromRow(r), postId: (r.post_id as string | null) ?? null }));
  }

  async requeueNotifications(selection: RequeueSelection, now: number): Promise<number[]> {
    if (!selection.ids?.length && !selection.states?.length) return [];
    const rows = (
      await this.query<{ id: number }>(
        `UPDATE ${this.S}.outbox SET state = 'pending', next_attempt_at = $1, first_attempt_at = NULL, lease_owner = NULL, lease_until = NULL
         WHERE state IN ('failed', 'skipped') AND (id = ANY($2) OR state = ANY($3)) RETURNING id`,
        [now, selection.ids ?? [], selection.states ?? []],
      )
    ).rows;
    return rows.map((r) => r.id).sort((a, b) => a - b);
  }

  async claimNotification(owner: string, now: number, leaseMs: number): Promise<ClaimedNotification | undefined> {
    const until = now + leaseMs;
    // SKIP LOCKED: a row another instance is claiming right now is passed over instead of waited for.
    const r = (
      await this.query<Record<string, unknown>>(
        `UPDATE ${this.S}.outbox SET lease_owner = $1, lease_until = $2
         WHERE id = (SELECT id FROM ${this.S}.outbox WHERE state = 'pending' AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)
                     ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING *`,
        [owner, until, now],
      )
    ).rows[0];
    return r && { ...notificationFromRow(r), owner, leaseUntil: until };
  }

  async nextNotificationDueAt(): Promise<number | undefined> {
    const r = (await this.query<{ at: number | null }>(`SELECT MIN(next_attempt_at) AS at FROM ${this.S}.outbox WHERE state = 'pending'`)).rows[0];
    return r?.at ?? undefined;
  }

  async settleNotification(...[n, outcome, now]: Parameters<ListenerStore['settleNotification']>): Promise<boolean> {
    if (outcome.state === 'retry')
      return (
        (
          await this.query(
            `UPDATE ${this.S}.outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2, first_attempt_at = COALESCE(first_attempt_at, $3),
               lease_owner = NULL, lease_until = NULL WHERE id = $4 AND lease_owner = $5`,
            [outcome.at, outcome.error, now, n.id, n.owner],
          )
        ).rowCount === 1
      );
    const attempted = outcome.attempted ? 1 : 0;
    return (
      (
        await this.query(
          `UPDATE ${this.S}.outbox SET state = $1, attempts = attempts + $2, last_error = COALESCE($3, last_error), sent_at = $4,
             first_attempt_at = COALESCE(first_attempt_at, CASE WHEN $2 = 1 THEN $5::bigint END), lease_owner = NULL, lease_until = NULL
           WHERE id = $6 AND lease_owner = $7`,
          [outcome.state, attempted, outcome.error ?? null, outcome.state === 'sent' ? now : null, now, n.id, n.owner],
        )
      ).rowCount === 1
    );
  }

  async claimForwards(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedForward[]> {
    const until = now + leaseMs;
    const S = this.S;
    // SKIP LOCKED passes over rows another instance is claiming; the NOT EXISTS still sees them as pending, so a job's
    // later event waits for its earlier one whoever holds it.
    const rows = (
      await this.query<Record<string, unknown>>(
        `WITH ready AS (
           SELECT f.id FROM ${S}.forwards f
           WHERE f.state = 'pending' AND f.next_attempt_at <= $3 AND (f.lease_until IS NULL OR f.lease_until <= $3)
             AND NOT EXISTS (SELECT 1 FROM ${S}.forwards e WHERE e.state = 'pending' AND e.job_id = f.job_id AND e.id < f.id)
           ORDER BY f.next_attempt_at, f.id LIMIT $4 FOR UPDATE SKIP LOCKED)
         UPDATE ${S}.forwards f SET lease_owner = $1, lease_until = $2 FROM ready, ${S}.inbox i
         WHERE f.id = ready.id AND i.event_id = f.event_id
         RETURNING f.*, i.body`,
        [owner, until, now, limit],
      )
    ).rows;
    return rows.map((r) => ({ ...forwardFromRow(r), owner, leaseUntil: until, body: r.body as string })).sort((a, b) => a.id - b.id);
  }

  async settleForward(f: ClaimedForward, outcome: ForwardOutcome, now: number): Promise<boolean> {
    const r = await this.query(
      `UPDATE ${this.S}.forwards SET state = $1, attempts = attempts + 1, next_attempt_at = COALESCE($2, next_attempt_at), last_error = COALESCE($3, last_error),
         last_status = COALESCE($4, last_status), first_attempt_at = COALESCE(first_attempt_at, $5), sent_at = $6, lease_owner = NULL, lease_until = NULL
       WHERE id = $7 AND lease_owner = $8`,
      [
        outcome.state === 'retry' ? 'pending' : outcome.state,
        outcome.state === 'retry' ? outcome.at : null,
        outcome.state === 'sent' ? null : outcome.error,
        outcome.status ?? null,
        now,
        outcome.state === 'sent' ? now : null,
        f.id,
        f.owner,
      ],
    );
    return r.rowCount === 1;
  }

  async nextForwardDueAt(): Promise<number | undefined> {
    const r = (await this.query<{ at: number | null }>(`SELECT MIN(next_attempt_at) AS at FROM ${this.S}.forwards WHERE state = 'pending'`)).rows[0];
    return r?.at ?? undefined;
  }

  async listForwards(query: Parameters<ListenerStore['listForwards']>[0]): Promise<Forward[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.ids?.length) {
      params.push(query.ids);
      where.push(`id = ANY($${params.length})`);
    }
    if (query.states?.length) {
      params.push(query.states);
      where.push(`state = ANY($${params.length})`);
    }
    if (query.jobId) {
      params.push(query.jobId);
      where.push(`job_id = $${params.length}`);
    }
    params.push(query.limit);
    return (
      await this.query<Record<string, unknown>>(`SELECT * FROM ${this.S}.forwards ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`, params)
    ).rows.map(forwardFromRow);
  }

  async requeueForwards(selection: Parameters<ListenerStore['requeueForwards']>[0], now: number): Promise<number[]> {
    const all = selection.states?.includes('failed') ?? false;
    if (!selection.ids?.length && !all) return [];
    const rows = (
      await this.query<{ id: number }>(
        `UPDATE ${this.S}.forwards SET state = 'pending', next_attempt_at = $1, first_attempt_at = NULL, lease_owner = NULL, lease_until = NULL
         WHERE state = 'failed' AND ($2 OR id = ANY($3)) RETURNING id`,
        [now, all, selection.ids ?? []],
      )
    ).rows;
    return rows.map((r) => r.id).sort((a, b) => a - b);
  }

  async acquireLease(name: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    const r = await this.query(
      `INSERT INTO ${this.S}.leases (name, owner, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE ${this.S}.leases.owner = excluded.owner OR ${this.S}.leases.expires_at <= $4`,
      [name, owner, now + ttlMs, now],
    );
    return r.rowCount === 1;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.query(`DELETE FROM ${this.S}.leases WHERE name = $1 AND owner = $2`, [name, owner]);
  }

  readiness(): Promise<Readiness> {
    return this.writer.readiness();
  }

  /** The readiness probe: a small committed write (fails when the server is gone, read-only or out of disk). */
  async probeWrite(now: number): Promise<void> {
    await this.query(
      `INSERT INTO ${this.S}.leases (name, owner, expires_at) VALUES ('write-probe', 'readyz', $1) ON CONFLICT (name) DO UPDATE SET expires_at = excluded.expires_at`,
      [now],
    );
  }

  async close(): Promise<void> {
    await this.writer.close();
    await this.pool.end();
  }

  private async query<R extends object = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, params);
    } catch (err) {
      if (isPgUnavailable(err)) throw new StoreUnavailableError(`database unavailable: ${describePgError(err)}`, (err as { code?: string }).code);
      throw err;
    }
  }

  private async transaction<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    let broken = false;
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => (broken = true));
      throw err;
    } finally {
      // A connection that failed mid-transaction is not given back to the pool.
      c.release(broken ? true : undefined);
    }
  }
}

class PgCommitter implements Committer {
  readonly available = true;
  readonly maxInFlight = MAX_IN_FLIGHT;
  constructor(private readonly store: PostgresStore) {}
  commit(events: EventToWrite[], now: number): Promise<EventOutcome[]> {
    return this.store.commitBatch(events, now);
  }
  probe(now: number): Promise<void> {
    return this.store.probeWrite(now);
  }
  async close(): Promise<void> {}
}

/**
 * Transaction-scoped advisory locks on the batch's jobs, released at COMMIT/ROLLBACK, in one statement. The caller sorts
 * the ids, so two batches take their common locks in one order and never wait on each other in a cycle (were one to,
 * PostgreSQL's deadlock detection fails a batch, which is retried: isPgRetryable).
 */
async function lockJobs(c: PoolClient, jobIds: readonly string[]): Promise<void> {
  // unnest yields the array's elements in order (sorted by the caller), and each lock is taken as its row is produced.
  await c.query(`SELECT pg_advisory_xact_lock(hashtext('vidpipe:job:' || k)) FROM unnest($1::text[]) AS t(k)`, [jobIds]);
}

/** A connection or migration failure at start-up, as a user error naming the fix (never the password). */
function startupError(err: unknown, where: string): VidpipeError {
  const code = (err as { code?: string }).code;
  const detail = describePgError(err);
  if (code === '28P01' || code === '28000')
    return new VidpipeError('DB_AUTH_FAILED', `PostgreSQL refused the credentials for ${where}: ${detail}`, {
      hint: 'Check the user name and password in --database (env VIDPIPE_DATABASE_URL).',
      exitCode: 3,
    });
  if (code === '42501')
    return new VidpipeError('DB_PERMISSION', `The PostgreSQL user of ${where} may not create vidpipe's schema: ${detail}`, {
      hint: 'Grant it CREATE on the database (GRANT CREATE ON DATABASE … TO …), or create the schema for it and pass ?schema=NAME.',
      exitCode: 3,
    });
  if (code === '3D000')
    return new UsageError('DB_NOT_FOUND', `The PostgreSQL database in ${where} does not exist: ${detail}`, { hint: 'Create it (createdb NAME) or fix the name in the URL.' });
  return new UsageError('DB_UNREACHABLE', `Cannot connect to PostgreSQL at ${where}: ${detail}`, {
    hint: 'Is the server running and reachable from here? Check the host and port in --database (env VIDPIPE_DATABASE_URL).',
  });
}

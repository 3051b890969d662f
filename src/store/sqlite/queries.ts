/**
 * The SQLite adapter's statements, prepared once on one connection, synchronous (better-sqlite3). recordEvent() is
 * the one write path for an incoming event (inbox → job → outbox; a post is read from its newest job) with the core's
 * fold and notification policy; the caller wraps it in a transaction (see batch-writer.ts). sqlite-store.ts puts the
 * async port on top.
 */
import type { Db } from './db.js';
import { foldEvent } from '../../listener/core/ingest.js';
import type { Job } from '../../listener/core/job-state.js';
import {
  decodeCursor,
  encodeCursor,
  type ClaimedForward,
  type ClaimedNotification,
  type EventBody,
  type Forward,
  type ForwardOutcome,
  type IngestResult,
  type JobEventRow,
  type ListVideosQuery,
  type Notification,
  type NotificationListItem,
  type NotificationQuery,
  type Post,
  type RequeueSelection,
  type VideoPage,
} from '../../listener/core/store-port.js';
import { forwardFromRow, JOB_COLUMNS, jobFromRow, jobToParams, notificationFromRow, postFromJobRow, type JobRow } from '../rows.js';
import type { NormalisedEvent } from '../../events/normalise.js';

export type Queries = ReturnType<typeof createQueries>;

export interface QueriesOptions {
  /** Set when there is nowhere to send notifications (no SLACK_WEBHOOK_URL): notifications created now are recorded
   * as skipped, with this reason, in the event's own transaction. Rows already pending stay pending. */
  skipNotificationsReason?: string;
  /** `listen --forward-to`: every newly stored event also gets a forwards row, in its own transaction. */
  forwardEvents?: boolean;
}

/** Rows of the forwarding outbox that may go now: due, lease expired, and no earlier pending row of the same job. */
const FORWARDS_READY = `f.state = 'pending' AND f.next_attempt_at <= @now AND (f.lease_until IS NULL OR f.lease_until <= @now)
  AND NOT EXISTS (SELECT 1 FROM forwards e WHERE e.state = 'pending' AND e.job_id = f.job_id AND e.id < f.id)`;

export function createQueries(db: Db, options: QueriesOptions = {}) {
  const s = {
    inboxHas: db.prepare<[string], { job_id: string | null; outcome: string }>('SELECT job_id, outcome FROM inbox WHERE event_id = ?'),
    inboxInsert: db.prepare(
      `INSERT INTO inbox (event_id, source, detail_type, outcome, job_id, status, event_time, detail_timestamp, received_at, body)
       VALUES (@event_id, @source, @detail_type, @outcome, @job_id, @status, @event_time, @detail_timestamp, @received_at, @body)
       ON CONFLICT (event_id) DO NOTHING`,
    ),
    jobGet: db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE job_id = ?'),
    jobUpsert: db.prepare(
      `INSERT INTO jobs (${JOB_COLUMNS.join(', ')}) VALUES (${JOB_COLUMNS.map((c) => `@${c}`).join(', ')})
       ON CONFLICT (job_id) DO UPDATE SET ${JOB_COLUMNS.filter((c) => c !== 'job_id').map((c) => `${c} = excluded.${c}`).join(', ')}`,
    ),
    // A post follows its newest job (a re-upload starts a new job for the same post); ties by job id. It is read, not
    // stored (rows.ts, postFromJobRow): the index of migration 003 finds the row without sorting.
    postNewestJob: db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE post_id = ? ORDER BY first_event_at DESC, job_id DESC LIMIT 1'),
    outboxInsert: db.prepare(
      `INSERT INTO outbox (job_id, kind, event_id, next_attempt_at, created_at, state, last_error) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (job_id, kind) DO NOTHING`,
    ),
    // SQLite serialises writers, so "select the oldest due row whose lease expired, then lease it" in one UPDATE is a
    // claim no other connection can interleave with (PostgreSQL's adapter needs FOR UPDATE SKIP LOCKED for the same).
    outboxClaim: db.prepare<[{ owner: string; until: number; now: number }], Record<string, unknown>>(
      `UPDATE outbox SET lease_owner = @owner, lease_until = @until
       WHERE id = (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= @now AND (lease_until IS NULL OR lease_until <= @now)
                   ORDER BY next_attempt_at, id LIMIT 1)
       RETURNING *`,
    ),
    outboxNextDue: db.prepare<[], { at: number | null }>("SELECT MIN(next_attempt_at) AS at FROM outbox WHERE state = 'pending'"),
    // last_error keeps the previous failure when a retry succeeds: it says why the message was late.
    outboxSettle: db.prepare(
      `UPDATE outbox SET state = @state, attempts = attempts + @attempted, last_error = COALESCE(@error, last_error), sent_at = @sent_at,
         first_attempt_at = COALESCE(first_attempt_at, CASE WHEN @attempted = 1 THEN @now END), lease_owner = NULL, lease_until = NULL
       WHERE id = @id AND lease_owner = @owner`,
    ),
    outboxRetry: db.prepare(
      `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = @at, last_error = @error, first_attempt_at = COALESCE(first_attempt_at, @now),
         lease_owner = NULL, lease_until = NULL
       WHERE id = @id AND lease_owner = @owner`,
    ),
    outboxForJob: db.prepare<[string], Record<string, unknown>>('SELECT * FROM outbox WHERE job_id = ? ORDER BY id'),
    leaseTake: db.prepare(
      `INSERT INTO leases (name, owner, expires_at) VALUES (@name, @owner, @until)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE leases.owner = excluded.owner OR leases.expires_at <= @now`,
    ),
    leaseRelease: db.prepare('DELETE FROM leases WHERE name = ? AND owner = ?'),
    jobEvents: db.prepare<[string], Record<string, unknown>>(
      'SELECT event_id, status, detail_timestamp, event_time, source, received_at FROM inbox WHERE job_id = ? ORDER BY detail_timestamp, event_id',
    ),
    eventBody: db.prepare<[string], { event_id: string; job_id: string | null; body: string }>('SELECT event_id, job_id, body FROM inbox WHERE event_id = ?'),
    forwardInsert: db.prepare('INSERT INTO forwards (event_id, job_id, next_attempt_at, created_at) VALUES (?, ?, ?, ?)'),
    forwardClaim: db.prepare<[{ owner: string; until: number; now: number; limit: number }], Record<string, unknown>>(
      `UPDATE forwards SET lease_owner = @owner, lease_until = @until
       WHERE id IN (SELECT f.id FROM forwards f WHERE ${FORWARDS_READY} ORDER BY f.next_attempt_at, f.id LIMIT @limit)
       RETURNING *`,
    ),
    forwardSettle: db.prepare(
      `UPDATE forwards SET state = @state, attempts = attempts + 1, next_attempt_at = COALESCE(@at, next_attempt_at), last_error = COALESCE(@error, last_error),
         last_status = COALESCE(@status, last_status), first_attempt_at = COALESCE(first_attempt_at, @now), sent_at = @sent_at, lease_owner = NULL, lease_until = NULL
       WHERE id = @id AND lease_owner = @owner`,
    ),
    forwardNextDue: db.prepare<[], { at: number | null }>("SELECT MIN(next_attempt_at) AS at FROM forwards WHERE state = 'pending'"),
    inboxBody: db.prepare<[string], { body: string }>('SELECT body FROM inbox WHERE event_id = ?'),
    probe: db.prepare("INSERT INTO leases (name, owner, expires_at) VALUES ('write-probe', 'readyz', ?) ON CONFLICT (name) DO UPDATE SET expires_at = excluded.expires_at"),
    ping: db.prepare('SELECT 1'),
  };
  const skipReason = options.skipNotificationsReason;
  const forwardEvents = options.forwardEvents === true;

  return {
    db,

    /**
     * Records one event: call inside a transaction. Returns `duplicate` (and changes nothing) for a known id.
     * `bodyText` is the body exactly as received, when the caller has it (it is stored instead of re-serialising).
     */
    recordEvent(event: NormalisedEvent, now: number, bodyText?: string): IngestResult {
      const jobId = event.detail?.jobId ?? null;
      const inserted = s.inboxInsert.run({
        event_id: event.eventId,
        source: event.source,
        detail_type: event.detailType,
        outcome: event.processed ? 'processed' : 'ignored',
        job_id: jobId,
        status: event.detail?.status ?? null,
        event_time: event.time ?? null,
        detail_timestamp: event.timestampMs ?? null,
        received_at: now,
        body: bodyText ?? JSON.stringify(event.raw),
      });
      if (inserted.changes === 0) return { status: 'duplicate', eventId: event.eventId, jobId: s.inboxHas.get(event.eventId)?.job_id ?? null };
      if (forwardEvents) s.forwardInsert.run(event.eventId, jobId, now, now);
      if (!event.processed || !event.detail || event.timestampMs === undefined) return { status: 'ignored', eventId: event.eventId, jobId };

      // One writer (the writer thread's transaction): reading the job, folding and writing it back cannot interleave.
      const existing = s.jobGet.get(event.detail.jobId);
      const { job, notify } = foldEvent(existing && jobFromRow(existing), event);
      s.jobUpsert.run(jobToParams(job, now));
      if (notify) s.outboxInsert.run(job.jobId, notify, event.eventId, now, now, skipReason ? 'skipped' : 'pending', skipReason ?? null);
      return { status: 'processed', eventId: event.eventId, jobId: job.jobId };
    },

    getJob(jobId: string): Job | undefined {
      const row = s.jobGet.get(jobId);
      return row && jobFromRow(row);
    },

    listJobEvents(jobId: string): JobEventRow[] {
      return s.jobEvents.all(jobId).map((r) => ({
        eventId: r.event_id as string,
        status: r.status as string | null,
        detailTimestamp: r.detail_timestamp as number | null,
        eventTime: r.event_time as string | null,
        source: r.source as string,
        receivedAt: r.received_at as number,
      }));
    },

    getEventBodies(eventIds: readonly string[]): EventBody[] {
      const out: EventBody[] = [];
      for (const id of eventIds) {
        const r = s.eventBody.get(id);
        if (r) out.push({ eventId: r.event_id, jobId: r.job_id, body: r.body });
      }
      return out;
    },

    /** Newest first, keyset-paged: the cursor is opaque and stable while rows are added. */
    listVideos(options: ListVideosQuery): VideoPage {
      const where: string[] = [];
      const params: Record<string, unknown> = { limit: options.limit + 1 };
      if (options.status) {
        where.push('status = @status');
        params.status = options.status;
      }
      if (options.cursor) {
        const c = decodeCursor(options.cursor);
        where.push('(first_event_at < @c_at OR (first_event_at = @c_at AND job_id < @c_id))');
        params.c_at = c.at;
        params.c_id = c.id;
      }
      const rows = db
        .prepare<[Record<string, unknown>], JobRow>(
          `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY first_event_at DESC, job_id DESC LIMIT @limit`,
        )
        .all(params);
      const more = rows.length > options.limit;
      const videos = rows.slice(0, options.limit).map(jobFromRow);
      const last = videos.at(-1);
      return { videos, nextCursor: more && last ? encodeCursor(last.firstEventAt, last.jobId) : null };
    },

    getPost(postId: string): Post | undefined {
      const row = s.postNewestJob.get(postId);
      return row && postFromJobRow(row);
    },

    notificationsForJob(jobId: string): Notification[] {
      return s.outboxForJob.all(jobId).map(notificationFromRow);
    },

    listNotifications(query: NotificationQuery): NotificationListItem[] {
      const where: string[] = [];
      const params: unknown[] = [];
      if (query.ids?.length) {
        where.push(`o.id IN (${query.ids.map(() => '?').join(', ')})`);
        params.push(...query.ids);
      }
      if (query.states?.length) {
        where.push(`o.state IN (${query.states.map(() => '?').join(', ')})`);
        params.push(...query.states);
      }
      if (query.jobId) {
        where.push('o.job_id = ?');
        params.push(query.jobId);
      }
      params.push(query.limit);
      const rows = db
        .prepare<unknown[], Record<string, unknown>>(
          `SELECT o.*, j.post_id FROM outbox o JOIN jobs j ON j.job_id = o.job_id ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY o.id DESC LIMIT ?`,
        )
        .all(...params);
      return rows.map((r) => ({ ...notificationFromRow(r), postId: (r.post_id as string | null) ?? null }));
    },

    requeueNotifications(selection: RequeueSelection, now: number): number[] {
      const or: string[] = [];
      const params: unknown[] = [now];
      if (selection.ids?.length) {
        or.push(`id IN (${selection.ids.map(() => '?').join(', ')})`);
        params.push(...selection.ids);
      }
      if (selection.states?.length) {
        or.push(`state IN (${selection.states.map(() => '?').join(', ')})`);
        params.push(...selection.states);
      }
      if (!or.length) return [];
      return db
        .prepare<unknown[], { id: number }>(
          `UPDATE outbox SET state = 'pending', next_attempt_at = ?, first_attempt_at = NULL, lease_owner = NULL, lease_until = NULL
           WHERE state IN ('failed', 'skipped') AND (${or.join(' OR ')}) RETURNING id`,
        )
        .all(...params)
        .map((r) => r.id)
        .sort((a, b) => a - b);
    },

    claimNotification(owner: string, now: number, leaseMs: number): ClaimedNotification | undefined {
      const row = s.outboxClaim.get({ owner, until: now + leaseMs, now });
      return row && { ...notificationFromRow(row), owner, leaseUntil: now + leaseMs };
    },

    /** When the next pending notification is due (undefined: none pending). */
    nextNotificationDueAt(): number | undefined {
      return s.outboxNextDue.get()?.at ?? undefined;
    },

    settleNotification(
      n: ClaimedNotification,
      outcome: { state: 'sent' | 'failed' | 'skipped'; attempted: boolean; error?: string } | { state: 'retry'; at: number; error: string },
      now: number,
    ): boolean {
      if (outcome.state === 'retry') return s.outboxRetry.run({ at: outcome.at, error: outcome.error, now, id: n.id, owner: n.owner }).changes === 1;
      return (
        s.outboxSettle.run({
          state: outcome.state,
          attempted: outcome.attempted ? 1 : 0,
          error: outcome.error ?? null,
          sent_at: outcome.state === 'sent' ? now : null,
          now,
          id: n.id,
          owner: n.owner,
        }).changes === 1
      );
    },

    claimForwards(owner: string, now: number, leaseMs: number, limit: number): ClaimedForward[] {
      const rows = s.forwardClaim.all({ owner, until: now + leaseMs, now, limit });
      return rows
        .map((r) => ({ ...forwardFromRow(r), owner, leaseUntil: now + leaseMs, body: s.inboxBody.get(r.event_id as string)?.body ?? '' }))
        .sort((a, b) => a.id - b.id);
    },

    settleForward(f: ClaimedForward, outcome: ForwardOutcome, now: number): boolean {
      return (
        s.forwardSettle.run({
          state: outcome.state === 'retry' ? 'pending' : outcome.state,
          at: outcome.state === 'retry' ? outcome.at : null,
          error: outcome.state === 'sent' ? null : outcome.error,
          status: outcome.status ?? null,
          now,
          sent_at: outcome.state === 'sent' ? now : null,
          id: f.id,
          owner: f.owner,
        }).changes === 1
      );
    },

    nextForwardDueAt(): number | undefined {
      return s.forwardNextDue.get()?.at ?? undefined;
    },

    listForwards(query: { ids?: readonly number[]; states?: readonly string[]; jobId?: string; limit: number }): Forward[] {
      const where: string[] = [];
      const params: unknown[] = [];
      if (query.ids?.length) {
        where.push(`id IN (${query.ids.map(() => '?').join(', ')})`);
        params.push(...query.ids);
      }
      if (query.states?.length) {
        where.push(`state IN (${query.states.map(() => '?').join(', ')})`);
        params.push(...query.states);
      }
      if (query.jobId) {
        where.push('job_id = ?');
        params.push(query.jobId);
      }
      params.push(query.limit);
      return db
        .prepare<unknown[], Record<string, unknown>>(`SELECT * FROM forwards ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`)
        .all(...params)
        .map(forwardFromRow);
    },

    requeueForwards(selection: { ids?: readonly number[]; states?: readonly string[] }, now: number): number[] {
      const or: string[] = [];
      const params: unknown[] = [now];
      if (selection.ids?.length) {
        or.push(`id IN (${selection.ids.map(() => '?').join(', ')})`);
        params.push(...selection.ids);
      }
      if (selection.states?.includes('failed')) or.push('1 = 1');
      if (!or.length) return [];
      return db
        .prepare<unknown[], { id: number }>(
          `UPDATE forwards SET state = 'pending', next_attempt_at = ?, first_attempt_at = NULL, lease_owner = NULL, lease_until = NULL
           WHERE state = 'failed' AND (${or.join(' OR ')}) RETURNING id`,
        )
        .all(...params)
        .map((r) => r.id)
        .sort((a, b) => a - b);
    },

    acquireLease(name: string, owner: string, now: number, ttlMs: number): boolean {
      return s.leaseTake.run({ name, owner, until: now + ttlMs, now }).changes === 1;
    },

    releaseLease(name: string, owner: string): void {
      s.leaseRelease.run(name, owner);
    },

    /** A write that commits (readiness): fails when the file is read-only, the disk full or the database locked. */
    probeWrite(now: number): void {
      s.probe.run(now);
    },

    ping(): void {
      s.ping.get();
    },
  };
}

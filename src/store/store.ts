/**
 * The listener's repository: every SQL statement lives here, prepared once. recordEvent() is the one write path for
 * an incoming event (inbox → job → post → outbox); the caller wraps it in a transaction (see batch-writer.ts).
 */
import type { Db } from './db.js';
import { mergeJobEvent, postStateOf, type Job, type JobOutput, type JobWarningEntry, type VideoStatus } from './job-state.js';
import type { NormalisedEvent } from '../events/normalise.js';

export type IngestOutcome = 'processed' | 'duplicate' | 'ignored';

export interface IngestResult {
  status: IngestOutcome;
  eventId: string;
  jobId: string | null;
}

export type NotificationState = 'pending' | 'sent' | 'failed' | 'skipped';

export interface Notification {
  id: number;
  jobId: string;
  kind: 'COMPLETE' | 'ERROR';
  eventId: string;
  state: NotificationState;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: number;
  sentAt: number | null;
}

export interface Post {
  postId: string;
  jobId: string;
  videoStatus: VideoStatus;
  videoUrl: string | null;
  thumbnailUrl: string | null;
  updatedAt: number;
}

export interface JobEventRow {
  eventId: string;
  status: string | null;
  detailTimestamp: number | null;
  eventTime: string | null;
  source: string;
  receivedAt: number;
}

export interface VideoPage {
  videos: Job[];
  nextCursor: string | null;
}

interface JobRow {
  job_id: string;
  status: string;
  status_at: number;
  status_event: string;
  progress: number | null;
  current_phase: string | null;
  phase_at: number | null;
  input_uri: string | null;
  input_details: string | null;
  input_at: number | null;
  outputs: string | null;
  duration_ms: number | null;
  width: number | null;
  height: number | null;
  error_code: string | null;
  error_message: string | null;
  warnings: string;
  queue: string | null;
  queue_at: number | null;
  post_id: string | null;
  user_metadata: string;
  first_event_at: number;
  last_event_at: number;
  event_count: number;
}

function jobFromRow(r: JobRow): Job {
  return {
    jobId: r.job_id,
    status: r.status as Job['status'],
    statusAt: r.status_at,
    statusEvent: r.status_event as Job['statusEvent'],
    progress: r.progress,
    currentPhase: r.current_phase,
    phaseAt: r.phase_at,
    inputUri: r.input_uri,
    inputDetails: r.input_details === null ? null : (JSON.parse(r.input_details) as unknown[]),
    inputAt: r.input_at,
    outputs: r.outputs === null ? null : (JSON.parse(r.outputs) as JobOutput[]),
    durationMs: r.duration_ms,
    width: r.width,
    height: r.height,
    errorCode: r.error_code,
    errorMessage: r.error_message,
    warnings: JSON.parse(r.warnings) as JobWarningEntry[],
    queue: r.queue,
    queueAt: r.queue_at,
    postId: r.post_id,
    userMetadata: JSON.parse(r.user_metadata) as Record<string, string>,
    firstEventAt: r.first_event_at,
    lastEventAt: r.last_event_at,
    eventCount: r.event_count,
  };
}

function jobToParams(j: Job, now: number) {
  return {
    job_id: j.jobId,
    status: j.status,
    status_at: j.statusAt,
    status_event: j.statusEvent,
    progress: j.progress,
    current_phase: j.currentPhase,
    phase_at: j.phaseAt,
    input_uri: j.inputUri,
    input_details: j.inputDetails === null ? null : JSON.stringify(j.inputDetails),
    input_at: j.inputAt,
    outputs: j.outputs === null ? null : JSON.stringify(j.outputs),
    duration_ms: j.durationMs,
    width: j.width,
    height: j.height,
    error_code: j.errorCode,
    error_message: j.errorMessage,
    warnings: JSON.stringify(j.warnings),
    queue: j.queue,
    queue_at: j.queueAt,
    post_id: j.postId,
    user_metadata: JSON.stringify(j.userMetadata),
    first_event_at: j.firstEventAt,
    last_event_at: j.lastEventAt,
    event_count: j.eventCount,
    updated_at: now,
  };
}

const JOB_COLUMNS = Object.keys(jobToParams(mergeJobEvent(undefined, { jobId: 'x', status: 'PROGRESSING', timestamp: 0 }, 0), 0));

function notificationFromRow(r: Record<string, unknown>): Notification {
  return {
    id: r.id as number,
    jobId: r.job_id as string,
    kind: r.kind as Notification['kind'],
    eventId: r.event_id as string,
    state: r.state as NotificationState,
    attempts: r.attempts as number,
    nextAttemptAt: r.next_attempt_at as number,
    lastError: r.last_error as string | null,
    createdAt: r.created_at as number,
    sentAt: r.sent_at as number | null,
  };
}

function postFromRow(r: Record<string, unknown>): Post {
  return {
    postId: r.post_id as string,
    jobId: r.job_id as string,
    videoStatus: r.video_status as VideoStatus,
    videoUrl: r.video_url as string | null,
    thumbnailUrl: r.thumbnail_url as string | null,
    updatedAt: r.updated_at as number,
  };
}

export type Store = ReturnType<typeof createStore>;

export interface StoreOptions {
  /** Set when there is nowhere to send notifications (no SLACK_WEBHOOK_URL): they are recorded as skipped, with this
   * reason, in the event's own transaction instead of costing the worker one commit each. */
  skipNotificationsReason?: string;
}

export function createStore(db: Db, options: StoreOptions = {}) {
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
    // A post follows its newest job (a re-upload starts a new job for the same post); ties by job id.
    // From the index alone (migration 003): the job's row is only read when it is not the one just written.
    postJob: db.prepare<[string], { job_id: string }>('SELECT job_id FROM jobs WHERE post_id = ? ORDER BY first_event_at DESC, job_id DESC LIMIT 1'),
    postUpsert: db.prepare(
      `INSERT INTO posts (post_id, job_id, video_status, video_url, thumbnail_url, updated_at)
       VALUES (@post_id, @job_id, @video_status, @video_url, @thumbnail_url, @updated_at)
       ON CONFLICT (post_id) DO UPDATE SET job_id = excluded.job_id, video_status = excluded.video_status,
         video_url = excluded.video_url, thumbnail_url = excluded.thumbnail_url, updated_at = excluded.updated_at`,
    ),
    postGet: db.prepare<[string], Record<string, unknown>>('SELECT * FROM posts WHERE post_id = ?'),
    outboxInsert: db.prepare(
      `INSERT INTO outbox (job_id, kind, event_id, next_attempt_at, created_at, state, last_error) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (job_id, kind) DO NOTHING`,
    ),
    outboxDue: db.prepare<[number], Record<string, unknown>>(
      "SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 1",
    ),
    outboxNextDue: db.prepare<[], { at: number | null }>("SELECT MIN(next_attempt_at) AS at FROM outbox WHERE state = 'pending'"),
    // last_error keeps the previous failure when a retry succeeds: it says why the message was late.
    outboxSettle: db.prepare('UPDATE outbox SET state = ?, attempts = attempts + ?, last_error = COALESCE(?, last_error), sent_at = ? WHERE id = ?'),
    outboxSkipDue: db.prepare("UPDATE outbox SET state = 'skipped', last_error = ? WHERE state = 'pending' AND next_attempt_at <= ?"),
    outboxRetry: db.prepare('UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?'),
    outboxForJob: db.prepare<[string], Record<string, unknown>>('SELECT * FROM outbox WHERE job_id = ? ORDER BY id'),
    jobEvents: db.prepare<[string], Record<string, unknown>>(
      'SELECT event_id, status, detail_timestamp, event_time, source, received_at FROM inbox WHERE job_id = ? ORDER BY detail_timestamp, event_id',
    ),
    ping: db.prepare('SELECT 1'),
  };
  const skipReason = options.skipNotificationsReason;

  return {
    db,

    /** A read-only check, so a redelivery can be answered without waiting for a write. */
    findInbox(eventId: string): { jobId: string | null } | undefined {
      const row = s.inboxHas.get(eventId);
      return row && { jobId: row.job_id };
    },

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
      if (!event.processed || !event.detail || event.timestampMs === undefined) return { status: 'ignored', eventId: event.eventId, jobId };

      const existing = s.jobGet.get(event.detail.jobId);
      const job = mergeJobEvent(existing && jobFromRow(existing), event.detail, event.timestampMs);
      s.jobUpsert.run(jobToParams(job, now));
      const status = event.detail.status;
      // Only the event that decided the job's terminal state notifies; the worker re-checks the state when sending.
      if ((status === 'COMPLETE' || status === 'ERROR') && job.statusEvent === status && job.statusAt === event.timestampMs)
        s.outboxInsert.run(job.jobId, status, event.eventId, now, now, skipReason ? 'skipped' : 'pending', skipReason ?? null);
      if (job.postId !== null) {
        const currentId = (s.postJob.get(job.postId) as { job_id: string }).job_id;
        const current = currentId === job.jobId ? job : jobFromRow(s.jobGet.get(currentId) as JobRow);
        const post = postStateOf(current);
        s.postUpsert.run({
          post_id: job.postId,
          job_id: current.jobId,
          video_status: post.videoStatus,
          video_url: post.videoUrl,
          thumbnail_url: post.thumbnailUrl,
          updated_at: now,
        });
      }
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

    /** Newest first, keyset-paged: the cursor is opaque and stable while rows are added. */
    listVideos(options: { status?: string; limit: number; cursor?: string }): VideoPage {
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
      const row = s.postGet.get(postId);
      return row && postFromRow(row);
    },

    notificationsForJob(jobId: string): Notification[] {
      return s.outboxForJob.all(jobId).map(notificationFromRow);
    },

    nextDueNotification(now: number): Notification | undefined {
      const row = s.outboxDue.get(now);
      return row && notificationFromRow(row);
    },

    /** When the next pending notification is due (undefined: none pending). */
    nextNotificationDueAt(): number | undefined {
      return s.outboxNextDue.get()?.at ?? undefined;
    },

    settleNotification(id: number, state: 'sent' | 'failed' | 'skipped', options: { attempted: boolean; error?: string; now: number }): void {
      s.outboxSettle.run(state, options.attempted ? 1 : 0, options.error ?? null, state === 'sent' ? options.now : null, id);
    },

    /** Marks every due notification skipped in one statement (one commit, not one per row). Returns how many. */
    skipDueNotifications(reason: string, now: number): number {
      return s.outboxSkipDue.run(reason, now).changes;
    },

    retryNotification(id: number, nextAttemptAt: number, error: string): void {
      s.outboxRetry.run(nextAttemptAt, error, id);
    },

    ping(): void {
      s.ping.get();
    },
  };
}

export class BadCursorError extends Error {}

function encodeCursor(at: number, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}

function decodeCursor(cursor: string): { at: number; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof at === 'number' && typeof id === 'string') return { at, id };
  } catch {
    // fall through
  }
  throw new BadCursorError('cursor is not one this API returned');
}

/**
 * Rows ↔ domain objects, the same for both engines: the two adapters share one table layout (column names and
 * meanings; SQLite INTEGER is PostgreSQL bigint, JSON is kept as text in both).
 */
import { foldEvent, postOf } from '../listener/core/ingest.js';
import { anomaliesOf, type Job, type JobOutput, type JobWarningEntry, type TerminalEvent } from '../listener/core/job-state.js';
import type { Forward, ForwardState, Notification, NotificationState, Post } from '../listener/core/store-port.js';

export interface JobRow {
  job_id: string;
  status: string;
  status_at: number;
  status_event: string;
  status_event_id: string | null;
  terminal_events: string;
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
  /** When the row was last written (epoch ms). */
  updated_at: number;
}

export function jobFromRow(r: JobRow): Job {
  const job: Job = {
    jobId: r.job_id,
    status: r.status as Job['status'],
    statusAt: r.status_at,
    statusEvent: r.status_event as Job['statusEvent'],
    statusEventId: r.status_event_id,
    terminalEvents: JSON.parse(r.terminal_events) as TerminalEvent[],
    anomalies: [],
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
  job.anomalies = anomaliesOf(job);
  return job;
}

export function jobToParams(j: Job, now: number) {
  return {
    job_id: j.jobId,
    status: j.status,
    status_at: j.statusAt,
    status_event: j.statusEvent,
    status_event_id: j.statusEventId,
    terminal_events: JSON.stringify(j.terminalEvents),
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

export const JOB_COLUMNS = Object.keys(
  jobToParams(
    foldEvent(undefined, { eventId: 'x', source: '', detailType: '', processed: true, testBody: false, time: undefined, detail: { jobId: 'x', status: 'PROGRESSING', timestamp: 0 }, timestampMs: 0, raw: {} }).job,
    0,
  ),
);

export function notificationFromRow(r: Record<string, unknown>): Notification {
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
    firstAttemptAt: (r.first_attempt_at as number | null) ?? null,
    sentAt: r.sent_at as number | null,
  };
}

/**
 * A post is its newest job's view (core's postOf): it is read from the jobs table, not stored. Keeping a posts row in
 * step cost every processed event a read of the post's newest job and an upsert, and every PostgreSQL batch a post
 * lock; without them, 4 alternating pairs each gave SQLite +7 % events/s and PostgreSQL +20 % (issue 17,
 * bench/README.md). `updatedAt` is when that job was last written.
 */
export function postFromJobRow(r: JobRow): Post {
  return postOf(jobFromRow(r), r.updated_at);
}

export function forwardFromRow(r: Record<string, unknown>): Forward {
  return {
    id: r.id as number,
    eventId: r.event_id as string,
    jobId: (r.job_id as string | null) ?? null,
    state: r.state as ForwardState,
    attempts: r.attempts as number,
    nextAttemptAt: r.next_attempt_at as number,
    lastError: (r.last_error as string | null) ?? null,
    lastStatus: (r.last_status as number | null) ?? null,
    createdAt: r.created_at as number,
    firstAttemptAt: (r.first_attempt_at as number | null) ?? null,
    sentAt: (r.sent_at as number | null) ?? null,
  };
}

/**
 * The store port: everything the listener's core, read API and notifier need from a database, and nothing more.
 * Adapters: src/store/sqlite (group commit on a worker thread) and src/store/postgres (a pool, several instances on one
 * database). Both pass one contract suite (test/integration/store-contract.test.ts). Nothing here knows an engine.
 *
 * Times are epoch milliseconds.
 */
import type { NormalisedEvent } from '../../events/normalise.js';
import type { Job, VideoStatus } from './job-state.js';

export type IngestOutcome = 'processed' | 'duplicate' | 'ignored';

export interface IngestResult {
  status: IngestOutcome;
  eventId: string;
  jobId: string | null;
}

export type NotificationState = 'pending' | 'sent' | 'failed' | 'skipped';
export type NotificationKind = 'COMPLETE' | 'ERROR';

export interface Notification {
  id: number;
  jobId: string;
  kind: NotificationKind;
  eventId: string;
  state: NotificationState;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: number;
  /** When the first delivery was attempted: the retry horizon counts from here. */
  firstAttemptAt: number | null;
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

/** One stored event's body, exactly as received (the dashboard's raw view and timeline). */
export interface EventBody {
  eventId: string;
  jobId: string | null;
  body: string;
}

export interface VideoPage {
  videos: Job[];
  nextCursor: string | null;
}

export interface ListVideosQuery {
  status?: string;
  limit: number;
  cursor?: string;
}

/** A notification as `vidpipe notifications` lists it: with its job's post. */
export interface NotificationListItem extends Notification {
  postId: string | null;
}

export interface NotificationQuery {
  ids?: readonly number[];
  states?: readonly NotificationState[];
  jobId?: string;
  limit: number;
}

/** What to send again: these ids, and/or every row in these states. */
export interface RequeueSelection {
  ids?: readonly number[];
  states?: readonly ('failed' | 'skipped')[];
}

/** A notification handed to one notifier until `leaseUntil`; settling it needs the same owner. */
export interface ClaimedNotification extends Notification {
  owner: string;
  leaseUntil: number;
}

export type ForwardState = 'pending' | 'sent' | 'failed';

/** One newly stored event to relay to the user's app (`listen --forward-to`). */
export interface Forward {
  id: number;
  eventId: string;
  jobId: string | null;
  state: ForwardState;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  /** The app's last HTTP status, when it answered. */
  lastStatus: number | null;
  createdAt: number;
  firstAttemptAt: number | null;
  sentAt: number | null;
}

export interface ClaimedForward extends Forward {
  owner: string;
  leaseUntil: number;
  /** The event's body exactly as received: what is relayed. */
  body: string;
}

export type ForwardOutcome = { state: 'sent'; status: number } | { state: 'failed'; error: string; status?: number } | { state: 'retry'; at: number; error: string; status?: number };

export type Readiness = { ready: true } | { ready: false; reason: string };

export interface ListenerStore {
  /** 'sqlite' or 'postgresql'. */
  readonly engine: 'sqlite' | 'postgresql';
  /** Where it is, for people: a path, or a URL with the password redacted. */
  readonly location: string;
  /** How writes are committed, for the start-up line ("group commit on a worker thread"…). */
  readonly writeMode: string;

  // ── ingest ────────────────────────────────────────────────────────────────────────────────────────────────────
  /**
   * A fast answer for a redelivery: the job id of an event already stored, when the adapter can tell cheaply
   * (memory, a read). Undefined means "not known here", never "new": recordEvent() decides.
   */
  lookupEvent(eventId: string): { jobId: string | null } | undefined | Promise<{ jobId: string | null } | undefined>;
  /**
   * Stores one event durably — inbox, job fold, outbox in one transaction — and resolves only after COMMIT.
   * `bodyText` is the body exactly as received, stored as is. Rejects with StoreUnavailableError when the database
   * cannot take the write (busy, gone, full, read-only): the caller answers 503 and the sender retries.
   */
  recordEvent(event: NormalisedEvent, bodyText?: string): Promise<IngestResult>;
  /** Called after each commit that stored new events (processed or ignored): wakes the outbox consumers, feeds live views. */
  onCommit(listener: (results: readonly IngestResult[]) => void): void;

  // ── read API ──────────────────────────────────────────────────────────────────────────────────────────────────
  getJob(jobId: string): Promise<Job | undefined>;
  listJobEvents(jobId: string): Promise<JobEventRow[]>;
  /** The stored bodies of these events (unknown ids are left out), in the order asked. */
  getEventBodies(eventIds: readonly string[]): Promise<EventBody[]>;
  /** Newest first, keyset-paged; a cursor not made by this API → BadCursorError. */
  listVideos(query: ListVideosQuery): Promise<VideoPage>;
  /** The post as its newest job shows it (core's postOf), read from the jobs: a post has no row of its own. */
  getPost(postId: string): Promise<Post | undefined>;
  notificationsForJob(jobId: string): Promise<Notification[]>;

  // ── notifier ──────────────────────────────────────────────────────────────────────────────────────────────────
  /**
   * Takes the oldest due pending notification whose lease (if any) has expired, and leases it to `owner` until
   * now + leaseMs. Two notifiers never hold the same row at once; a row held by a notifier that died is taken over
   * when its lease expires.
   */
  claimNotification(owner: string, now: number, leaseMs: number): Promise<ClaimedNotification | undefined>;
  /** When the next pending notification is due (undefined: none pending). */
  nextNotificationDueAt(): Promise<number | undefined>;
  /** Records the outcome of a claimed row; false when the lease was lost (another notifier took the row). */
  settleNotification(
    n: ClaimedNotification,
    outcome: { state: 'sent' | 'failed' | 'skipped'; attempted: boolean; error?: string } | { state: 'retry'; at: number; error: string },
    now: number,
  ): Promise<boolean>;
  /** Newest first (operators' view: `vidpipe notifications`). */
  listNotifications(query: NotificationQuery): Promise<NotificationListItem[]>;
  /**
   * Puts failed or skipped rows back to pending, due now, with a fresh retry horizon (attempts and the last error are
   * kept). Sent rows are never re-sent; pending ones are left as they are. Returns the ids requeued.
   */
  requeueNotifications(selection: RequeueSelection, now: number): Promise<number[]>;
  /**
   * A named lease held by one owner at a time (the single Slack sender): taken when free or expired, renewed by its
   * holder. Returns whether `owner` holds it until now + ttlMs.
   */
  acquireLease(name: string, owner: string, now: number, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, owner: string): Promise<void>;

  // ── forwarder (listen --forward-to) ─────────────────────────────────────────────────────────────────────────
  /**
   * Leases up to `limit` due forwards, each the oldest pending row of its job (a job's events go out in the order they
   * were stored: a row waits while an earlier one of its job is pending), to `owner` until now + leaseMs.
   */
  claimForwards(owner: string, now: number, leaseMs: number, limit: number): Promise<ClaimedForward[]>;
  /** Records the outcome of a claimed row; false when the lease was lost. */
  settleForward(f: ClaimedForward, outcome: ForwardOutcome, now: number): Promise<boolean>;
  /** When the next pending forward is due (undefined: none pending). */
  nextForwardDueAt(): Promise<number | undefined>;
  /** Newest first. */
  listForwards(query: { ids?: readonly number[]; states?: readonly ForwardState[]; jobId?: string; limit: number }): Promise<Forward[]>;
  /** Failed rows (these ids, or all with states: ['failed']) back to pending, due now, with a fresh horizon. */
  requeueForwards(selection: { ids?: readonly number[]; states?: readonly 'failed'[] }, now: number): Promise<number[]>;

  // ── health ────────────────────────────────────────────────────────────────────────────────────────────────────
  /** Whether the write path can commit now (writer alive, database reachable and writable). */
  readiness(): Promise<Readiness>;
  /** Commits what is queued, refuses anything new, closes connections. */
  close(): Promise<void>;
}

/** The database could not take the operation (busy, locked, full, read-only, unreachable): retry later. */
export class StoreUnavailableError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

/** A listVideos cursor this API did not make. */
export class BadCursorError extends Error {
  constructor(message = 'cursor is not one this API returned') {
    super(message);
    this.name = 'BadCursorError';
  }
}

export function encodeCursor(at: number, id: string): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}

export function decodeCursor(cursor: string): { at: number; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof at === 'number' && Number.isSafeInteger(at) && typeof id === 'string') return { at, id };
  } catch {
    // fall through
  }
  throw new BadCursorError();
}

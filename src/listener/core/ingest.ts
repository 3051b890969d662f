/**
 * The ingest use-case: one validated, normalised event → stored, duplicate or ignored, and why. Every transport calls
 * it — the HTTP route today, the SQS puller and the local runner next — so each gets the same guarantees: an event id
 * is stored once, and the answer comes only after the event is durable (Stripe's and Svix's receiver guides: verify,
 * dedupe on the event id, commit, answer fast, work later). It knows no HTTP and no database engine.
 *
 * foldEvent() is the domain rule the store adapters apply inside their transaction, and postOf() the one they read a
 * post by, so both engines compute a job and a post the same way.
 */
import { MEDIACONVERT_DETAIL_TYPE, MEDIACONVERT_SOURCE } from '../../events/types.js';
import type { NormalisedEvent } from '../../events/normalise.js';
import type { ParsedEvent } from '../../events/parse-event.js';
import { mergeJobEvent, postStateOf, type Job } from './job-state.js';
import { notificationFor } from './notification-policy.js';
import type { IngestResult, ListenerStore, NotificationKind, Post } from './store-port.js';

export interface IngestAnswer extends IngestResult {
  /** Why a duplicate or ignored event was not processed (absent when processed). */
  reason?: string;
}

export interface IngestDeps {
  store: Pick<ListenerStore, 'lookupEvent' | 'recordEvent'>;
}

export async function ingestEvent(event: NormalisedEvent, deps: IngestDeps, bodyText?: string): Promise<IngestAnswer> {
  // A redelivery is answered without waiting for a write when the store can tell cheaply.
  const known = await deps.store.lookupEvent(event.eventId);
  if (known) return duplicateOf(event.eventId, known.jobId);
  return withReason(await deps.store.recordEvent(event, bodyText), event);
}

/** What ingestBody() made of a parsed body: an answer (and the event, when it was normalised), or why it is invalid. */
export type BodyIngest = { ok: true; answer: IngestAnswer; event?: NormalisedEvent } | { ok: false; message: string };

/**
 * The same use-case from a parsed body, for a transport that has not validated it yet (the HTTP route). A redelivery
 * the store knows cheaply (lookupEvent: the ids its writer committed recently) is answered from the envelope's `id`
 * alone, before the body is validated and normalised: the body of a stored id is never used again (ids are unique,
 * EventBridge delivers at least once), and that work was ~25 % of the duplicate path's CPU (issue 17; bench/README.md).
 * `event` is set only when the body was normalised.
 */
export async function ingestBody(body: unknown, parse: (body: unknown) => ParsedEvent, deps: IngestDeps, bodyText?: string): Promise<BodyIngest> {
  const id = envelopeId(body);
  if (id !== undefined) {
    const known = await deps.store.lookupEvent(id);
    if (known) return { ok: true, answer: duplicateOf(id, known.jobId) };
  }
  const parsed = parse(body);
  if (!parsed.ok) return parsed;
  const event = parsed.event;
  // Already looked up when the id came from the envelope (a body without one gets a derived id: parse-event.ts).
  const answer = event.eventId === id ? withReason(await deps.store.recordEvent(event, bodyText), event) : await ingestEvent(event, deps, bodyText);
  return { ok: true, answer, event };
}

/** An EventBridge envelope's event id, when the body has one of a length the schema accepts (schema.ts: 1–256). */
function envelopeId(body: unknown): string | undefined {
  const id = typeof body === 'object' && body !== null ? (body as { id?: unknown }).id : undefined;
  return typeof id === 'string' && id.length >= 1 && id.length <= 256 ? id : undefined;
}

const DUPLICATE_REASON = 'an event with this id is already stored (EventBridge delivers at least once)';

function duplicateOf(eventId: string, jobId: string | null): IngestAnswer {
  return { status: 'duplicate', eventId, jobId, reason: DUPLICATE_REASON };
}

function withReason(result: IngestResult, event: NormalisedEvent): IngestAnswer {
  if (result.status === 'duplicate') return { ...result, reason: DUPLICATE_REASON };
  if (result.status === 'ignored') return { ...result, reason: ignoredReason(event) };
  return result;
}

function ignoredReason(event: NormalisedEvent): string {
  if (event.detailType !== MEDIACONVERT_DETAIL_TYPE) return `detail-type "${event.detailType}" is not "${MEDIACONVERT_DETAIL_TYPE}": recorded, not processed`;
  if (event.source !== MEDIACONVERT_SOURCE) return `source "${event.source}" is not ${MEDIACONVERT_SOURCE} nor a configured simulator source: recorded, not processed`;
  return 'recorded, not processed';
}

/** What one new, processed event does to its job: the job after the fold, and the notification it queues, if any. */
export function foldEvent(existing: Job | undefined, event: NormalisedEvent): { job: Job; notify: NotificationKind | undefined } {
  if (!event.detail || event.timestampMs === undefined) throw new Error('foldEvent: the event is not a processed MediaConvert event');
  const job = mergeJobEvent(existing, event.detail, event.timestampMs, event.eventId);
  return { job, notify: notificationFor(event, job) };
}

/**
 * A post as its newest job shows it (a re-upload starts a new job for the same post). Which job is newest, the largest
 * firstEventAt with ties to the larger job id, is the stores' read: an ORDER BY on the jobs' (post_id, first_event_at,
 * job_id) index. `updatedAt` is when that job was last written.
 */
export function postOf(newest: Job, updatedAt: number): Post {
  const state = postStateOf(newest);
  return { postId: newest.postId as string, jobId: newest.jobId, videoStatus: state.videoStatus, videoUrl: state.videoUrl, thumbnailUrl: state.thumbnailUrl, updatedAt };
}


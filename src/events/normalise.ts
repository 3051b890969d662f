/**
 * Request body → one normalised event, whatever shape it came in: the envelope as an EventBridge API destination sends
 * it, or the original system's curl test body `{"detail": {...}}`. The body has already passed listenerBodySchema.
 */
import { createHash } from 'node:crypto';
import { MEDIACONVERT_DETAIL_TYPE, MEDIACONVERT_SOURCE, type JobStateChangeDetail } from './types.js';
import { canonicalJson } from '../util/canonical-json.js';

/** Recorded as the source of a curl-style test body, which carries none. */
export const TEST_BODY_SOURCE = 'vidpipe.test-body';

export interface NormalisedEvent {
  eventId: string;
  source: string;
  detailType: string;
  /** True for a MediaConvert job event the listener processes; false for anything it only records. */
  processed: boolean;
  /** A curl-style body without an envelope. */
  testBody: boolean;
  /** The envelope's `time`, when there is one. */
  time: string | undefined;
  /** Set when processed. */
  detail: JobStateChangeDetail | undefined;
  /** detail.timestamp as epoch milliseconds (set when processed). */
  timestampMs: number | undefined;
  /** The body as received (parsed). */
  raw: Record<string, unknown>;
}

export class EventFieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field} ${message}`);
    this.name = 'EventFieldError';
  }
}

export interface NormaliseOptions {
  /** Custom sources processed like aws.mediaconvert (config.simulatorSource). */
  processedSources: readonly string[];
}

export function normaliseEvent(body: Record<string, unknown>, options: NormaliseOptions): NormalisedEvent {
  const detail = body.detail as Record<string, unknown>;
  const testBody = typeof body.id !== 'string';
  const source = testBody ? TEST_BODY_SOURCE : (body.source as string);
  const detailType = testBody ? MEDIACONVERT_DETAIL_TYPE : (body['detail-type'] as string);
  const processed =
    testBody || (detailType === MEDIACONVERT_DETAIL_TYPE && (source === MEDIACONVERT_SOURCE || options.processedSources.includes(source)));
  // A test body has no id: derive a stable one from its content, so posting it twice is recognised as a repeat.
  const eventId = testBody ? `test-${sha256(canonicalJson(detail))}` : (body.id as string);
  const event: NormalisedEvent = {
    eventId,
    source,
    detailType,
    processed,
    testBody,
    time: typeof body.time === 'string' ? body.time : undefined,
    detail: undefined,
    timestampMs: undefined,
    raw: body,
  };
  if (processed) {
    event.detail = detail as JobStateChangeDetail;
    event.timestampMs = timestampToMs(event.detail.timestamp);
  }
  return event;
}

/** MediaConvert sends epoch milliseconds; hand-written bodies send ISO-8601. */
export function timestampToMs(value: number | string): number {
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms) || ms < 0 || ms > 8.64e15) throw new EventFieldError('body.detail.timestamp', 'is not a valid date');
  return Math.trunc(ms);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

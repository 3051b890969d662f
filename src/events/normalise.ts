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

/** The latest time a JavaScript Date can hold (ECMA-262 §21.4.1.1: ±8.64e15 ms around the epoch). */
const MAX_TIME_MS = 8.64e15;

/**
 * MediaConvert sends whole epoch milliseconds; hand-written bodies send ISO-8601, with or without a zone (without one
 * it is UTC, not the listener's local time). A number with a fraction of a millisecond is refused rather than cut off
 * (MediaConvert never sends one, and a silent change is worse than a 400); an ISO string is read to the millisecond,
 * the resolution the job's times are kept in (the raw body keeps every digit).
 */
export function timestampToMs(value: number | string): number {
  const field = 'body.detail.timestamp';
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new EventFieldError(field, 'must be whole epoch milliseconds (no fraction)');
    if (value < 0 || value > MAX_TIME_MS) throw new EventFieldError(field, `must be epoch milliseconds between 0 and ${MAX_TIME_MS}`);
    return value;
  }
  const ms = parseIsoDateTime(value);
  if (ms === undefined || ms < 0 || ms > MAX_TIME_MS) throw new EventFieldError(field, 'is not a valid date');
  return ms;
}

const ISO_PARTS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|([+-])(\d{2}):?(\d{2}))?$/;

/**
 * An ISO 8601 date-time → epoch ms, or undefined when it names no real instant. Date.parse is not used: it reads a
 * zone-less date-time as local time and rolls 2024-02-30 over to 1 March.
 */
export function parseIsoDateTime(text: string): number | undefined {
  const m = ISO_PARTS.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysInMonth = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (m[8] && m[8] !== 'Z') {
    const [oh, om] = [Number(m[10]), Number(m[11])];
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  // Milliseconds: the first three digits of the fraction (finer digits cannot be kept in epoch ms).
  const ms = m[7] ? Number(m[7].slice(1, 4).padEnd(3, '0')) : 0;
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, ms);
  return utc.getTime() - offsetMinutes * 60_000;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

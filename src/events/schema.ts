/**
 * JSON Schema of what `POST /aws/listener/eventbridge/video` accepts: either the full EventBridge envelope or the
 * original system's curl body `{"detail": {...}}`. The listener validates with it (fastify/ajv) and the simulator's
 * tests validate `--print` output with it, so the two can never drift apart. Unknown fields are allowed everywhere:
 * AWS adds fields, and we keep the raw event.
 *
 * The `detail` of a "MediaConvert Job State Change" (or of a body with no detail-type: the curl test) must be a job
 * detail; events of other detail-types only need an object detail — the listener records and ignores them.
 */
import { JOB_STATUSES, MEDIACONVERT_DETAIL_TYPE } from './types.js';

// The zone is optional: a date-time without one is UTC (the original system's curl test body sends
// "2024-03-14T12:00:00"). normalise.ts checks that the date exists (no 30 February).
export const ISO_8601 = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:?\\d{2})?$';
// Where an output was written: an S3 URI, as MediaConvert reports it, or an absolute path, as the curl test body
// sends it ("/path/to/video.mp4"). Not a URL of another scheme, not a relative name, no control characters.
export const OUTPUT_PATH = '^(s3://[^/\\s]+/.+|/(?!/)[^\\u0000-\\u001f\\u007f]+)$';

/** What the patterns above mean, in words, for the 400 that names the field. */
export const PATTERN_WORDS: Readonly<Record<string, string>> = {
  [ISO_8601]: 'must be an ISO 8601 date-time such as 2024-03-14T12:00:00Z (without a zone it is read as UTC)',
  [OUTPUT_PATH]: 'must be an s3:// URI (s3://bucket/key) or an absolute path (/path/to/video.mp4)',
};

const stringArray = { type: 'array', items: { type: 'string', maxLength: 2048 }, maxItems: 1000 } as const;
const numberOrString = { type: ['number', 'string'] } as const;

export const videoDetailsSchema = {
  type: 'object',
  properties: {
    widthInPx: { type: 'integer', minimum: 0 },
    heightInPx: { type: 'integer', minimum: 0 },
  },
} as const;

export const outputGroupDetailSchema = {
  type: 'object',
  // No `required: ['type']`: the curl test body's output group has none (job-state.ts records UNTYPED_OUTPUT_GROUP).
  properties: {
    type: { type: 'string', minLength: 1, maxLength: 64 },
    playlistFilePaths: { type: 'array', items: { type: 'string', pattern: OUTPUT_PATH, maxLength: 2048 }, maxItems: 1000 },
    outputDetails: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        properties: {
          outputFilePaths: { type: 'array', items: { type: 'string', pattern: OUTPUT_PATH, maxLength: 2048 }, maxItems: 1000 },
          // Whole milliseconds, as MediaConvert sends them: the job's duration_ms column is an INTEGER (1.5 was a 500).
          durationInMs: { type: 'integer', minimum: 0 },
          blackVideoDurationInMs: { type: 'number', minimum: 0 },
          videoDetails: videoDetailsSchema,
        },
      },
    },
  },
} as const;

export const jobDetailSchema = {
  type: 'object',
  required: ['jobId', 'status', 'timestamp'],
  properties: {
    // Epoch milliseconds (MediaConvert) or an ISO string (hand-written bodies). One schema, not oneOf, so a bad value
    // gets the message of its own type rather than "must match exactly one schema". normalise.ts checks the rest.
    timestamp: { type: ['number', 'string'], minimum: 0, pattern: ISO_8601 },
    accountId: { type: 'string', maxLength: 64 },
    queue: { type: 'string', maxLength: 2048 },
    // MediaConvert job ids look like 1671476818694-phptj0; allow any printable id a test may use.
    jobId: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[A-Za-z0-9._:-]+$' },
    status: { enum: [...JOB_STATUSES] },
    userMetadata: { type: 'object', additionalProperties: { type: 'string', maxLength: 4096 } },
    errorCode: numberOrString,
    errorMessage: { type: 'string' },
    warnings: {
      type: 'array',
      maxItems: 1000,
      items: { type: 'object', required: ['code'], properties: { code: numberOrString, count: { type: 'integer', minimum: 0 } } },
    },
    outputGroupDetails: { type: 'array', maxItems: 100, items: outputGroupDetailSchema },
    paddingInserted: { type: 'number' },
    blackVideoDetected: { type: 'number' },
    framesDecoded: { type: 'number' },
    jobProgress: {
      type: 'object',
      properties: {
        jobPercentComplete: { type: 'number', minimum: 0, maximum: 100 },
        currentPhase: { type: 'string', maxLength: 64 },
        retryCount: { type: 'integer', minimum: 0 },
        phaseProgress: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            properties: { status: { type: 'string' }, percentComplete: { type: 'number', minimum: 0, maximum: 100 } },
          },
        },
      },
    },
    inputDetails: { type: 'array', maxItems: 100, items: { type: 'object', properties: { uri: { type: 'string' } } } },
    warningCode: numberOrString,
    warningMessage: { type: 'string' },
    previousQueue: { type: 'string' },
    priority: { type: 'integer' },
    previousPriority: { type: 'integer' },
  },
} as const;

/** The request body of POST /aws/listener/eventbridge/video. */
export const listenerBodySchema = {
  $id: 'vidpipe/listener-body',
  type: 'object',
  required: ['detail'],
  // An envelope comes whole; the curl test body has none of these. (`dependencies`, the draft-07 spelling: Ajv's
  // default draft-07 mode silently ignores `dependentRequired` when strict is off.)
  dependencies: {
    id: ['source', 'detail-type'],
    source: ['id', 'detail-type'],
    'detail-type': ['id', 'source'],
  },
  properties: {
    version: { type: 'string', maxLength: 16 },
    id: { type: 'string', minLength: 1, maxLength: 256 },
    'detail-type': { type: 'string', minLength: 1, maxLength: 256 },
    source: { type: 'string', minLength: 1, maxLength: 256 },
    account: { type: 'string', maxLength: 64 },
    time: { type: 'string', pattern: ISO_8601 },
    region: { type: 'string', maxLength: 64 },
    resources: stringArray,
    detail: { type: 'object' },
  },
  if: {
    // No detail-type (the curl body) or the MediaConvert one: the detail must be a job detail.
    anyOf: [{ not: { required: ['detail-type'] } }, { properties: { 'detail-type': { const: MEDIACONVERT_DETAIL_TYPE } } }],
  },
  then: { properties: { detail: jobDetailSchema } },
} as const;

/** A standalone validator (for tests and the simulator); the listener lets fastify compile the same schema. */
export async function compileListenerBodyValidator() {
  const { Ajv } = await import('ajv');
  const ajv = new Ajv({ allErrors: false, strict: false });
  return ajv.compile(listenerBodySchema);
}

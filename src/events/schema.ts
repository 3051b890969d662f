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

const ISO_8601 = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:?\\d{2})$';
const S3_URI = '^s3://[^/]+/.+';

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
  required: ['type'],
  properties: {
    type: { type: 'string', minLength: 1, maxLength: 64 },
    playlistFilePaths: { type: 'array', items: { type: 'string', pattern: S3_URI, maxLength: 2048 }, maxItems: 1000 },
    outputDetails: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        properties: {
          outputFilePaths: { type: 'array', items: { type: 'string', pattern: S3_URI, maxLength: 2048 }, maxItems: 1000 },
          durationInMs: { type: 'number', minimum: 0 },
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
    timestamp: {
      oneOf: [
        { type: 'number', minimum: 0 },
        { type: 'string', pattern: ISO_8601 },
      ],
    },
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

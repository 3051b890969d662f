/**
 * The S3-triggered Lambda: for each created object, read its post id from the object metadata and start a
 * MediaConvert job with the shared request builder. Bundled with its libraries by ./bundle.ts (runtime nodejs22.x).
 *
 * S3 invokes it asynchronously, so a thrown error makes Lambda retry the whole event (twice by default); the job's
 * ClientRequestToken is derived from the object, so records that already started a job do not start another.
 */
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateJobCommand, MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { buildJobRequest } from '../upload/job-request.js';
import { readLambdaConfig, type LambdaConfig } from './env.js';

/** The parts of an S3 event notification the handler reads (eventVersion 2.x). */
export interface S3EventRecord {
  eventName?: string;
  s3?: {
    bucket?: { name?: string };
    object?: { key?: string; eTag?: string; versionId?: string; size?: number };
  };
}
/** An S3 notification, or the s3:TestEvent S3 sends once a notification is configured (no Records). */
export interface S3Event {
  Records?: S3EventRecord[];
  Event?: string;
}

export interface HandlerResult {
  jobs: { bucket: string; key: string; jobId: string; postId?: string }[];
  skipped: { key?: string; reason: string }[];
}

export interface HandlerDeps {
  config: LambdaConfig;
  s3: Pick<S3Client, 'send'>;
  mediaconvert: Pick<MediaConvertClient, 'send'>;
  log?: (line: Record<string, unknown>) => void;
}

/** The post id header: x-amz-meta-post-id, which the SDK returns as Metadata['post-id']. */
export const POST_ID_METADATA = 'post-id';

/** S3 URL-encodes keys in event records, with "+" for a space (S3 user guide, notification-content-structure). */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

const jsonLog = (line: Record<string, unknown>) => console.log(JSON.stringify(line));

export function createHandler(deps: HandlerDeps): (event: S3Event) => Promise<HandlerResult> {
  const log = deps.log ?? jsonLog;
  return async (event) => {
    const result: HandlerResult = { jobs: [], skipped: [] };
    if (!event.Records) {
      log({ level: 'info', msg: event.Event === 's3:TestEvent' ? 'ignored s3:TestEvent' : 'ignored an event without Records' });
      return result;
    }
    const failures: { key: string; error: string }[] = [];
    for (const record of event.Records) {
      const bucket = record.s3?.bucket?.name;
      const rawKey = record.s3?.object?.key;
      if (!bucket || rawKey === undefined || !record.eventName?.startsWith('ObjectCreated:')) {
        result.skipped.push({ key: rawKey, reason: `not an object-created record (${record.eventName ?? 'no eventName'})` });
        continue;
      }
      const key = decodeS3Key(rawKey);
      if (key.endsWith('/')) {
        result.skipped.push({ key, reason: 'a folder marker' });
        continue;
      }
      try {
        const head = await deps.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...(record.s3?.object?.versionId ? { VersionId: record.s3.object.versionId } : {}) }));
        const postId = head.Metadata?.[POST_ID_METADATA];
        if (!postId) log({ level: 'warn', msg: 'object has no post-id metadata; the job will not link to a post', bucket, key });
        const request = buildJobRequest({
          ...deps.config,
          input: { bucket, key, etag: record.s3?.object?.eTag ?? head.ETag, versionId: record.s3?.object?.versionId ?? head.VersionId },
          ...(postId ? { postId } : {}),
        });
        const out = await deps.mediaconvert.send(new CreateJobCommand(request));
        const jobId = out.Job?.Id;
        if (!jobId) throw new Error('CreateJob returned no job id');
        log({ level: 'info', msg: 'job created', jobId, bucket, key, postId: postId ?? null, template: deps.config.template });
        result.jobs.push({ bucket, key, jobId, ...(postId ? { postId } : {}) });
      } catch (err) {
        const error = `${(err as Error).name}: ${(err as Error).message}`;
        log({ level: 'error', msg: 'could not start a job', bucket, key, error });
        failures.push({ key, error });
      }
    }
    // Every record was tried; fail the invocation so Lambda retries (jobs already created are deduplicated).
    if (failures.length) throw new Error(`${failures.length} of ${event.Records.length} record(s) failed: ${failures.map((f) => `${f.key}: ${f.error}`).join('; ')}`);
    return result;
  };
}

let cold: ((event: S3Event) => Promise<HandlerResult>) | undefined;

/** The Lambda entry point ("index.handler" in the bundle). Clients are made once per container. */
export async function handler(event: S3Event): Promise<HandlerResult> {
  if (!cold) {
    const config = readLambdaConfig(process.env);
    // MediaConvert's regional endpoint (mediaconvert.<region>.amazonaws.com); DescribeEndpoints is no longer needed.
    cold = createHandler({ config, s3: new S3Client({ region: config.region }), mediaconvert: new MediaConvertClient({ region: config.region }) });
  }
  return cold(event);
}

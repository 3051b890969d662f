/**
 * The S3-triggered Lambda: for each created object, read its post id from the object metadata and start a
 * MediaConvert job with the shared request builder. Bundled with its libraries by ./bundle.ts (runtime nodejs22.x).
 *
 * At most one job per object version, whatever the timing. S3 invokes the function asynchronously: a thrown error
 * makes Lambda retry the whole event after about 1 and then about 2 more minutes (docs.aws.amazon.com/lambda/latest/
 * dg/invocation-async-error-handling.html), and S3 may deliver the same notification more than once, possibly much
 * later (docs.aws.amazon.com/AmazonS3/latest/userguide/EventNotifications.html: "event notifications are delivered at
 * least once"). The ClientRequestToken alone does not cover that: MediaConvert honours a token for one minute only
 * (CreateJob, MediaConvert API reference). So the job is recorded on the object version itself, as the tag
 * `vidpipe:job-id`, read before CreateJob:
 *   - `<job id>`: a job was started for this version; nothing to do.
 *   - `pending:<epoch ms>`: an attempt began at that time and may have died after CreateJob (a timeout): the jobs
 *     created since then are listed (ListJobs, newest first) and the one with this object's ClientRequestToken is
 *     adopted; only when there is none is a job created.
 *   - absent: `pending:<now>` is written, then CreateJob, then the job id.
 * The token still covers concurrent deliveries within its minute. What fails every attempt goes to the function's
 * on-failure destination (the dead-letter queue, set by `vidpipe setup`), so nothing is lost.
 */
import { GetObjectTaggingCommand, HeadObjectCommand, PutObjectTaggingCommand, S3Client, type Tag } from '@aws-sdk/client-s3';
import { CreateJobCommand, ListJobsCommand, MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { buildJobRequest } from '../upload/job-request.js';
import { retry, type RetryOptions } from '../util/retry.js';
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
  jobs: { bucket: string; key: string; jobId: string; postId?: string; versionId?: string }[];
  skipped: { key?: string; reason: string }[];
}

export interface HandlerDeps {
  config: LambdaConfig;
  s3: Pick<S3Client, 'send'>;
  mediaconvert: Pick<MediaConvertClient, 'send'>;
  log?: (line: Record<string, unknown>) => void;
  /** How writing the job tag is retried (tests pass a sleep that does not wait). */
  tagRetry?: Partial<RetryOptions>;
  /** The clock (epoch ms) for the pending marker; default Date.now. */
  now?: () => number;
}

/** The object tag that records the job started for an object version (S3 tag keys: letters, digits, + - = . _ : / @). */
export const JOB_TAG_KEY = 'vidpipe:job-id';
/** S3 allows at most 10 tags per object (docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html). */
const MAX_OBJECT_TAGS = 10;
const PENDING = /^pending:(\d+)$/;
/** How far back the search for a job a dead attempt may have created goes: 5 pages of 20, newest first. */
const LIST_JOBS_PAGES = 5;
/** Clock skew between Lambda and MediaConvert the search allows for. */
const SKEW_MS = 5 * 60_000;

/** The post id header: x-amz-meta-post-id, which the SDK returns as Metadata['post-id']. */
export const POST_ID_METADATA = 'post-id';

/** S3 URL-encodes keys in event records, with "+" for a space (S3 user guide, notification-content-structure). */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

const jsonLog = (line: Record<string, unknown>) => console.log(JSON.stringify(line));

export function createHandler(deps: HandlerDeps): (event: S3Event) => Promise<HandlerResult> {
  const log = deps.log ?? jsonLog;
  const now = deps.now ?? Date.now;
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
        const recordVersion = record.s3?.object?.versionId;
        // On a versioned bucket, the version the record names (s3:GetObjectVersion): a newer upload is its own job.
        const version = recordVersion ? { VersionId: recordVersion } : {};
        const head = await deps.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ...version }));
        const tagging = await deps.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key, ...version }));
        const tags = (tagging.TagSet ?? []).filter((t) => t.Key !== JOB_TAG_KEY);
        const marker = tagging.TagSet?.find((t) => t.Key === JOB_TAG_KEY)?.Value;
        if (marker && !PENDING.test(marker)) {
          log({ level: 'info', msg: 'job already started for this object version; not starting another', jobId: marker, bucket, key, versionId: recordVersion ?? null });
          result.skipped.push({ key, reason: `job ${marker} was already started for this object version` });
          continue;
        }
        const postId = head.Metadata?.[POST_ID_METADATA];
        if (!postId) log({ level: 'warn', msg: 'object has no post-id metadata; the job will not link to a post', bucket, key });
        const request = buildJobRequest({
          ...deps.config,
          input: { bucket, key, etag: record.s3?.object?.eTag ?? head.ETag, versionId: recordVersion ?? head.VersionId },
          ...(postId ? { postId } : {}),
        });
        let jobId: string | undefined;
        if (marker) {
          // An earlier attempt began at `since` and did not record a job: did it create one before it died?
          jobId = await findJobByToken(deps.mediaconvert, request.ClientRequestToken!, Number(PENDING.exec(marker)![1]) - SKEW_MS);
          if (jobId) log({ level: 'info', msg: 'found the job an earlier attempt started; not starting another', jobId, bucket, key });
        } else if (tags.length < MAX_OBJECT_TAGS) {
          await deps.s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: key, ...version, Tagging: { TagSet: [...tags, { Key: JOB_TAG_KEY, Value: `pending:${now()}` }] } }));
        }
        if (!jobId) {
          const out = await deps.mediaconvert.send(new CreateJobCommand(request));
          jobId = out.Job?.Id;
          if (!jobId) throw new Error('CreateJob returned no job id');
          log({ level: 'info', msg: 'job created', jobId, bucket, key, postId: postId ?? null, template: deps.config.template });
        }
        result.jobs.push({ bucket, key, jobId, ...(postId ? { postId } : {}), ...(recordVersion ? { versionId: recordVersion } : {}) });
        await recordJob(deps, log, { bucket, key, version, tags, jobId });
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

/** The job created with this token since `sinceMs`, from ListJobs (newest first, as MediaConvert lists by default). */
async function findJobByToken(mediaconvert: Pick<MediaConvertClient, 'send'>, token: string, sinceMs: number): Promise<string | undefined> {
  let NextToken: string | undefined;
  for (let page = 0; page < LIST_JOBS_PAGES; page++) {
    const out = await mediaconvert.send(new ListJobsCommand({ Order: 'DESCENDING', MaxResults: 20, ...(NextToken ? { NextToken } : {}) }));
    for (const job of out?.Jobs ?? []) {
      if (job.ClientRequestToken === token && job.Id) return job.Id;
      if (job.CreatedAt && job.CreatedAt.getTime() < sinceMs) return undefined;
    }
    NextToken = out?.NextToken;
    if (!NextToken) return undefined;
  }
  return undefined;
}

/**
 * Writes the job tag beside the object's other tags (PutObjectTagging replaces the whole set). It never throws: the
 * job exists, and a thrown error would make Lambda run the record again. A few quick retries cover S3 throttling.
 */
async function recordJob(
  deps: HandlerDeps,
  log: (line: Record<string, unknown>) => void,
  at: { bucket: string; key: string; version: { VersionId?: string }; tags: Tag[]; jobId: string },
): Promise<void> {
  const { bucket, key, version, tags, jobId } = at;
  if (tags.length >= MAX_OBJECT_TAGS) {
    log({ level: 'warn', msg: `the object already has ${MAX_OBJECT_TAGS} tags; the job is not recorded on it (a redelivery after the token's minute would start another)`, jobId, bucket, key });
    return;
  }
  try {
    await retry(
      () => deps.s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: key, ...version, Tagging: { TagSet: [...tags, { Key: JOB_TAG_KEY, Value: jobId }] } })),
      { attempts: 4, baseMs: 200, maxMs: 2000, ...deps.tagRetry },
    );
  } catch (err) {
    log({ level: 'error', msg: 'could not record the job on the object', jobId, bucket, key, error: `${(err as Error).name}: ${(err as Error).message}` });
  }
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

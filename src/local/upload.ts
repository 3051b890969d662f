/**
 * `vidpipe upload --local`: store the file in the running `vidpipe local`'s storage, then start its job(s) exactly as
 * the S3-triggered Lambda does: the Lambda's own handler (src/lambda/handler.ts), invoked in this process with the S3
 * event notification S3 would send, its MediaConvert client pointed at the local runner by AWS_ENDPOINT_URL_MEDIACONVERT.
 *
 * A deployed pipeline runs the Lambda with one template (the config's first); locally the handler is invoked once per
 * template in the config (default mp4, hls, thumbnails), so one upload yields the MP4, the HLS ladder and the
 * thumbnails. --template picks one.
 */
import path from 'node:path';
import type { ChalkInstance } from 'chalk';
import { createHandler, type S3Event, POST_ID_METADATA } from '../lambda/handler.js';
import { clientAuthHeaders, clientCredentials, secretsPathFor } from '../config/secrets.js';
import { RemoteRejectedError, UsageError } from '../errors.js';
import type { Output } from '../output/output.js';
import { jobRoleName, roleArn } from '../provision/names.js';
import { followJob } from '../upload/follow-job.js';
import { inspectVideoFile } from '../upload/media-file.js';
import { objectKeyFor } from '../upload/upload-service.js';
import type { JobTemplateName } from '../../templates/job-templates.js';
import { PutObjectTaggingCommand } from '@aws-sdk/client-s3';
import { localConfig, localStateDir, processAlive, readRuntime, type Runtime } from './service.js';
import { DirStorage, localCredentials, ObjectNotFound, S3Storage, type Storage } from './storage.js';

export interface LocalUploadOptions {
  files: string[];
  postId?: string;
  key?: string;
  template?: JobTemplateName;
  wait: boolean;
}

export interface LocalUploadReport {
  file: string;
  uri: string;
  /** Where the object is on disk (directory storage). */
  path?: string;
  bucket: string;
  key: string;
  size: number;
  postId?: string;
  etag: string;
  jobs: { id: string; template: JobTemplateName; status: string; outputs?: string[]; errorCode?: string; errorMessage?: string }[];
}

/** S3 URL-encodes keys in event records, a space as "+" (S3 user guide, notification-content-structure). */
export function encodeS3Key(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
}

/** The s3:ObjectCreated:Put notification S3 sends (eventVersion 2.1; aws-facts §5). */
export function s3Event(runtime: Pick<Runtime, 'region'>, bucket: string, key: string, object: { size: number; etag: string }): S3Event {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: runtime.region,
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'vidpipe-local',
          bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
          object: { key: encodeS3Key(key), size: object.size, eTag: object.etag, sequencer: Date.now().toString(16).toUpperCase() },
        },
      } as S3Event['Records'] extends (infer R)[] | undefined ? R : never,
    ],
  };
}

/**
 * The handler's S3 client for directory storage: HeadObject, GetObjectTagging and PutObjectTagging (the trigger's
 * one-job-per-upload record) answered from the storage, as S3 would.
 */
function storageS3(storage: Storage) {
  return {
    async send(command: { input: { Bucket?: string; Key?: string; Tagging?: { TagSet?: Array<{ Key: string; Value: string }> } }; constructor: { name: string } }) {
      const name = command.constructor.name;
      if (name !== 'HeadObjectCommand' && name !== 'GetObjectTaggingCommand' && name !== 'PutObjectTaggingCommand')
        throw new Error(`vidpipe local's storage does not implement ${name}`);
      try {
        const o = await storage.head(command.input.Bucket!, command.input.Key!);
        if (name === 'GetObjectTaggingCommand') return { TagSet: o.tags ?? [], $metadata: { httpStatusCode: 200 } };
        if (name === 'PutObjectTaggingCommand') {
          await storage.putTags?.(command.input.Bucket!, command.input.Key!, command.input.Tagging?.TagSet ?? []);
          return { $metadata: { httpStatusCode: 200 } };
        }
        return { ETag: `"${o.etag}"`, ContentLength: o.size, Metadata: o.metadata, ContentType: o.contentType, $metadata: { httpStatusCode: 200 } };
      } catch (err) {
        if (err instanceof ObjectNotFound) throw Object.assign(new Error('Not Found'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
        throw err;
      }
    },
  };
}

export function requireRuntime(configPath: string): Runtime {
  const stateDir = localStateDir(configPath);
  const runtime = readRuntime(stateDir);
  if (!runtime || !processAlive(runtime.pid))
    throw new UsageError('LOCAL_NOT_RUNNING', `vidpipe local is not running for ${path.dirname(configPath)} (no live ${path.join(stateDir, 'runtime.json')}).`, {
      hint: 'Start it in another terminal, in the same folder: `vidpipe local`.',
    });
  return runtime;
}

export async function runLocalUpload(options: LocalUploadOptions, ctx: { out: Output; configPath: string; env?: NodeJS.ProcessEnv }): Promise<LocalUploadReport[]> {
  const { out } = ctx;
  const env = ctx.env ?? process.env;
  if (options.key !== undefined && options.files.length > 1) throw new UsageError('KEY_WITH_MANY_FILES', '--key names one object: pass one file with it.');
  const runtime = requireRuntime(ctx.configPath);
  const config = await localConfig(ctx.configPath);
  const templates = options.template ? [options.template] : (runtime.templates as JobTemplateName[]);
  if (!templates.length) throw new UsageError('NO_TEMPLATE', 'The config lists no job templates.', { hint: 'Add one to "templates" in vidpipe.config.json, or pass --template.' });
  const files = [];
  for (const arg of options.files) files.push(await inspectVideoFile(arg));

  const storage: Storage = runtime.storage.kind === 's3' ? new S3Storage(runtime.storage.location, runtime.region, env) : new DirStorage(runtime.storage.location);
  // The Lambda's MediaConvert client finds the local runner the way any SDK client finds an emulator.
  process.env.AWS_ENDPOINT_URL_MEDIACONVERT = runtime.mediaconvertEndpoint;
  const { MediaConvertClient } = await import('@aws-sdk/client-mediaconvert');
  const credentials = { credentials: localCredentials(env) };
  const mediaconvert = new MediaConvertClient({ region: runtime.region, ...credentials });
  const s3 = storage.kind === 's3' ? new (await import('@aws-sdk/client-s3')).S3Client({ region: runtime.region, endpoint: runtime.storage.location, forcePathStyle: true, ...credentials }) : storageS3(storage);
  const reports: LocalUploadReport[] = [];
  try {
    for (const file of files) {
      const key = objectKeyFor(file.path, options.postId, options.key);
      const stored = await storage.putFile(runtime.inputBucket, key, file.path, { metadata: options.postId ? { [POST_ID_METADATA]: options.postId } : {}, contentType: file.contentType });
      const uri = `s3://${runtime.inputBucket}/${key}`;
      out.success(`stored ${uri}${storage.pathOf ? ` (${storage.pathOf(runtime.inputBucket, key)})` : ''}`);
      const report: LocalUploadReport = {
        file: file.path,
        uri,
        ...(storage.pathOf ? { path: storage.pathOf(runtime.inputBucket, key) } : {}),
        bucket: runtime.inputBucket,
        key,
        size: stored.size,
        ...(options.postId ? { postId: options.postId } : {}),
        etag: stored.etag,
        jobs: [],
      };
      for (const template of templates) {
        const handler = createHandler({
          config: { app: runtime.app, template, roleArn: roleArn(runtime.account, jobRoleName(runtime.app), runtime.region), outputBucket: runtime.outputBucket, region: runtime.region },
          s3: s3 as never,
          mediaconvert,
          log: (line) => out.debug(`lambda: ${JSON.stringify(line)}`),
        });
        let result;
        try {
          result = await handler(s3Event(runtime, runtime.inputBucket, key, stored));
        } catch (err) {
          throw new RemoteRejectedError('LOCAL_JOB_NOT_STARTED', `The upload handler could not start the ${template} job: ${(err as Error).message}`, {
            hint: `Is vidpipe local still running at ${runtime.mediaconvertEndpoint}?`,
          });
        }
        // The AWS trigger starts one job per object version (templates[0]) and records it in a tag; here every
        // template is a trigger of its own, so the record is cleared before the next one runs (the file was stored
        // just now, without tags).
        await s3.send(new PutObjectTaggingCommand({ Bucket: runtime.inputBucket, Key: key, Tagging: { TagSet: [] } }) as never);
        for (const j of result.jobs) {
          report.jobs.push({ id: j.jobId, template, status: 'SUBMITTED' });
          out.success(`started job ${j.jobId} (template ${runtime.app}-${template})`);
        }
      }
      reports.push(report);
    }
    if (options.wait) {
      const listener = { baseUrl: runtime.listenerUrl, headers: clientAuthHeaders(clientCredentials({ env, secretsFile: secretsPathFor(ctx.configPath) }), config.listener.authHeader) };
      for (const r of reports)
        for (const job of r.jobs) {
          const state = await followJob({
            jobId: job.id,
            mediaconvert: async () => mediaconvert,
            listener,
            initialIntervalMs: 300,
            maxIntervalMs: 2_000,
            onListenerUnavailable: (reason) => out.debug(`listener not used: ${reason}`),
            onUpdate: (s) => out.info(`job ${job.id} (${job.template}): ${s.status}${s.phase ? ` ${s.phase}` : ''}${s.percent !== undefined ? ` ${s.percent}%` : ''}`),
          });
          job.status = state.status;
          if (state.outputs) job.outputs = state.outputs;
          if (state.errorCode) job.errorCode = state.errorCode;
          if (state.errorMessage) job.errorMessage = state.errorMessage;
        }
    }
  } finally {
    mediaconvert.destroy();
    storage.close();
    if ('destroy' in s3) (s3 as { destroy(): void }).destroy();
  }
  const failed = reports.flatMap((r) => r.jobs.map((j) => ({ r, j }))).find(({ j }) => j.status === 'ERROR' || j.status === 'CANCELED');
  if (failed)
    throw new RemoteRejectedError('JOB_FAILED', `Local job ${failed.j.id} for ${failed.r.key} ended ${failed.j.status}${failed.j.errorCode ? ` with error ${failed.j.errorCode}` : ''}${failed.j.errorMessage ? `: ${failed.j.errorMessage}` : ''}.`, {
      hint: `See GET ${runtime.listenerUrl}/api/videos/${failed.j.id}.`,
      details: { uploads: reports },
    });
  return reports;
}

export function renderLocalUploads(reports: LocalUploadReport[], c: ChalkInstance): string {
  return reports
    .map((r) => {
      const lines = [r.uri];
      for (const j of r.jobs) lines.push(`job ${j.id} ${j.template} ${j.status === 'COMPLETE' ? c.green(j.status) : j.status}`, ...(j.outputs ?? []).map((u) => `  ${u}`));
      return lines.join('\n');
    })
    .join('\n');
}

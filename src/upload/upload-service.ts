/**
 * `vidpipe upload`: check every file, upload each to the input bucket with its post id, optionally start its
 * MediaConvert job with the shared request builder and follow it. Ctrl-C aborts the upload in progress (no parts
 * left behind) or stops following the job, and exits 130.
 */
import path from 'node:path';
import type { MediaConvertClient } from '@aws-sdk/client-mediaconvert';
import { createAwsContext, type AwsContext } from '../aws/context.js';
import { awsErrorName, translateAwsError } from '../aws/errors.js';
import { REGION_HINT, resolveRegion } from '../aws/region.js';
import type { AwsCliOptions } from '../cli/context.js';
import { localListenerOrigin, requireConfig, type VidpipeConfig } from '../config/config.js';
import { clientAuthHeaders, clientCredentials, secretsPathFor } from '../config/secrets.js';
import { ExitCode, RemoteRejectedError, UsageError, VidpipeError } from '../errors.js';
import type { Output } from '../output/output.js';
import { jobRoleName, roleArn } from '../provision/names.js';
import type { JobTemplateName } from '../../templates/job-templates.js';
import { followJob, type JobSnapshot, type ListenerSource } from './follow-job.js';
import { buildJobRequest, jobOutputsFor } from './job-request.js';
import { inspectVideoFile, type VideoFile } from './media-file.js';
import { createProgress, formatBytes, megabytesPerSecond } from './progress.js';
import { uploadFile, type UploadedFile } from './s3-upload.js';

/** `vidpipe listen`'s default port (src/cli/commands/listen.ts). */

export interface UploadOptions {
  files: string[];
  postId?: string;
  key?: string;
  template?: JobTemplateName;
  startJob: boolean;
  wait: boolean;
  /** Parts in flight per file. */
  concurrency: number;
  partSizeMiB: number;
  /** Overrides the listener read API base URL. */
  listenerUrl?: string;
  /** --public-listener: read job state from the public listener URL (the API destination's) instead of the local one. */
  publicListener?: boolean;
  aws: AwsCliOptions;
}

export interface UploadEnv {
  out: Output;
  configPath: string;
  env?: NodeJS.ProcessEnv;
  /** Ctrl-C; defaults to the process's SIGINT. */
  signal?: AbortSignal;
}

export interface UploadReport {
  file: string;
  uri: string;
  bucket: string;
  key: string;
  size: number;
  contentType: string;
  container: string;
  postId?: string;
  etag?: string;
  versionId?: string;
  partSize: number;
  parts: number;
  durationMs: number;
  mbPerSecond: number;
  job?: {
    id: string;
    template: JobTemplateName;
    status: string;
    phase?: string;
    percent?: number;
    outputs?: string[];
    errorCode?: string;
    errorMessage?: string;
    source?: 'listener' | 'mediaconvert';
  };
}

/** The object key: --key, else the file name under posts/<id>/ when a post is given. */
export function objectKeyFor(file: string, postId: string | undefined, key: string | undefined): string {
  if (key !== undefined) return key;
  const name = path.basename(file);
  return postId ? `posts/${postId}/${name}` : name;
}

/**
 * Where `--wait` reads job state: --listener-url; else, with --public-listener, the origin of the configured public
 * listener URL (the one the API destination calls); else the local `vidpipe listen` on this machine (HOST/PORT › the
 * config's listen section › 127.0.0.1:3000, as `listen` itself binds).
 */
export function listenerSourceFor(
  config: VidpipeConfig,
  options: { listenerUrl?: string; publicListener?: boolean; configPath: string; env: NodeJS.ProcessEnv },
): ListenerSource {
  let baseUrl = options.listenerUrl;
  if (!baseUrl && options.publicListener) {
    if (!config.listener.url)
      throw new UsageError('LISTENER_URL_MISSING', '--public-listener: the config has no listener.url.', { hint: 'Set listener.url, or pass --listener-url URL.' });
    baseUrl = new URL(config.listener.url).origin;
  }
  if (!baseUrl) baseUrl = localListenerOrigin(config, options.env);
  const secretsFile = secretsPathFor(options.configPath);
  const credentials = clientCredentials({ env: options.env, secretsFile });
  const headers = clientAuthHeaders(credentials, config.listener.authHeader);
  return { baseUrl, headers, credentials: describeCredentials(credentials, options.env, secretsFile, config.listener.authHeader) };
}

/** Which credentials were sent, in words, never the secret itself (the same order clientCredentials reads them). */
function describeCredentials(credentials: { apiKey?: string; basicAuth?: string }, env: NodeJS.ProcessEnv, secretsFile: string, header: string): string {
  if (credentials.apiKey) return `the API key from ${env.VIDPIPE_API_KEY ? 'VIDPIPE_API_KEY' : secretsFile} (header ${header})`;
  if (credentials.basicAuth) return `the Basic credentials of user "${credentials.basicAuth.split(':')[0]}" from VIDPIPE_BASIC_AUTH`;
  return `a request without credentials (no VIDPIPE_API_KEY, nothing in ${secretsFile})`;
}

/** 75 s → "1m15s"; 8 s → "8s". */
export function formatElapsed(ms: number): string {
  const total = Math.floor(ms / 1000);
  const m = Math.floor(total / 60);
  return m ? `${m}m${String(total % 60).padStart(2, '0')}s` : `${total}s`;
}

export async function runUpload(options: UploadOptions, ctx: UploadEnv): Promise<UploadReport[]> {
  const { out } = ctx;
  const env = ctx.env ?? process.env;
  const config = await requireConfig(ctx.configPath);
  if (options.key !== undefined && options.files.length > 1) throw new UsageError('KEY_WITH_MANY_FILES', '--key names one object: pass one file with it.');
  if (options.wait && !options.startJob)
    throw new UsageError('WAIT_NEEDS_JOB', '--wait follows the job that --start-job starts.', {
      hint:
        config.trigger === 'lambda'
          ? 'Add --start-job: it sends the same request as the Lambda (same ClientRequestToken), so MediaConvert starts one job, and vidpipe follows it.'
          : 'Add --start-job.',
    });
  const template = options.template ?? config.templates[0];
  if (options.startJob) {
    if (!template) throw new UsageError('NO_TEMPLATE', 'vidpipe.config.json lists no job templates.', { hint: 'Add one to "templates" and run `vidpipe setup`.' });
    if (!config.templates.includes(template))
      throw new UsageError('TEMPLATE_NOT_INSTALLED', `The template "${template}" is not in this app's templates (${config.templates.join(', ')}).`, {
        hint: `Add it to "templates" in vidpipe.config.json and run \`vidpipe setup\`, or pick one of ${config.templates.join(', ')}.`,
      });
  }

  if (options.startJob && template && config.trigger === 'lambda')
    out.info(
      template === config.templates[0]
        ? 'trigger is lambda: the Lambda sends this same CreateJob (same ClientRequestToken), so MediaConvert runs one job per upload.'
        : `trigger is lambda: the Lambda also starts a "${config.templates[0]}" job for each upload, beside this "${template}" one.`,
    );

  // Every file is checked before the first byte goes out.
  const files: { file: VideoFile; arg: string; key: string }[] = [];
  for (const arg of options.files) {
    const file = await inspectVideoFile(arg);
    const key = objectKeyFor(file.path, options.postId, options.key);
    if (config.trigger === 'lambda' && config.triggerSuffix && !key.endsWith(config.triggerSuffix))
      out.warn(`${key} does not end with "${config.triggerSuffix}" (triggerSuffix): the Lambda will not start a job for it.`);
    files.push({ file, arg, key });
  }

  const region = resolveRegion({ flag: options.aws.region, configRegion: config.region, profile: options.aws.profile, env });
  if (!region) throw new UsageError('AWS_REGION_MISSING', 'No AWS region is set.', { hint: REGION_HINT });
  const aws = createAwsContext({ ...options.aws, region: region.region });
  const controller = new AbortController();
  const onSigint = () => {
    out.warn('interrupted: stopping (Ctrl-C again to quit at once)…');
    controller.abort();
    process.off('SIGINT', onSigint);
  };
  const signal = ctx.signal ?? controller.signal;
  if (!ctx.signal) process.on('SIGINT', onSigint);
  const reports: UploadReport[] = [];
  try {
    let jobRole: string | undefined;
    for (const { file, arg, key } of files) {
      const report = await uploadOne(aws, config, options, ctx, { file, arg, key }, signal);
      reports.push(report);
      if (!options.startJob || !template) continue;
      jobRole ??= roleArn(await aws.accountId(), jobRoleName(config.app), aws.region);
      report.job = await startJob(aws, config, template, jobRole, report, out);
      if (options.wait) {
        const final = await waitForJob(aws, config, options, ctx, env, report, template, signal);
        report.job = { ...report.job, ...final };
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    aws.destroy();
  }
  const failed = reports.filter((r) => r.job && (r.job.status === 'ERROR' || r.job.status === 'CANCELED'));
  if (failed.length) {
    const j = failed[0]!.job!;
    throw new RemoteRejectedError(
      'JOB_FAILED',
      `MediaConvert job ${j.id} for ${failed[0]!.key} ended ${j.status}${j.errorCode ? ` with error ${j.errorCode}` : ''}${j.errorMessage ? `: ${j.errorMessage}` : ''}.`,
      { hint: 'See the job in the MediaConvert console, or the listener (`GET /api/videos/<job id>`).', details: { uploads: reports } },
    );
  }
  return reports;
}

async function uploadOne(
  aws: AwsContext,
  config: VidpipeConfig,
  options: UploadOptions,
  ctx: UploadEnv,
  item: { file: VideoFile; arg: string; key: string },
  signal: AbortSignal,
): Promise<UploadReport> {
  const { out } = ctx;
  const { file, arg, key } = item;
  const bucket = config.inputBucket;
  out.info(`uploading ${arg} (${formatBytes(file.size)}, ${file.container}) to s3://${bucket}/${key}`);
  const progress = await createProgress(out, path.basename(key), file.size);
  let uploaded: UploadedFile;
  try {
    uploaded = await uploadFile({
      s3: await aws.s3(),
      bucket,
      key,
      file,
      ...(options.postId ? { postId: options.postId } : {}),
      partSizeMiB: options.partSizeMiB,
      queueSize: options.concurrency,
      signal,
      onProgress: (loaded) => progress.update(loaded),
      ...(aws.endpointFor('s3') ? { endpoint: aws.endpointFor('s3') } : {}),
    });
    progress.stop(true);
  } catch (err) {
    progress.stop(false);
    throw err;
  }
  const report: UploadReport = {
    file: file.path,
    uri: `s3://${bucket}/${key}`,
    bucket,
    key,
    size: file.size,
    contentType: file.contentType,
    container: file.container,
    ...(options.postId ? { postId: options.postId } : {}),
    ...(uploaded.etag ? { etag: uploaded.etag } : {}),
    ...(uploaded.versionId ? { versionId: uploaded.versionId } : {}),
    partSize: uploaded.partSize,
    parts: uploaded.parts,
    durationMs: uploaded.durationMs,
    mbPerSecond: megabytesPerSecond(file.size, uploaded.durationMs),
  };
  out.success(`uploaded s3://${bucket}/${key} (${formatBytes(file.size)} in ${(uploaded.durationMs / 1000).toFixed(1)} s, ${report.mbPerSecond} MB/s, ${uploaded.parts} part${uploaded.parts === 1 ? '' : 's'})`);
  return report;
}

async function startJob(aws: AwsContext, config: VidpipeConfig, template: JobTemplateName, role: string, report: UploadReport, out: Output) {
  const request = buildJobRequest({
    app: config.app,
    template,
    roleArn: role,
    outputBucket: config.outputBucket,
    input: { bucket: report.bucket, key: report.key, ...(report.etag ? { etag: report.etag } : {}), ...(report.versionId ? { versionId: report.versionId } : {}) },
    ...(report.postId ? { postId: report.postId } : {}),
  });
  const mc = await aws.mediaconvert();
  const { CreateJobCommand } = await import('@aws-sdk/client-mediaconvert');
  let id: string | undefined;
  let status: string | undefined;
  try {
    const res = await mc.send(new CreateJobCommand(request));
    id = res.Job?.Id;
    status = res.Job?.Status;
  } catch (err) {
    throw translateCreateJobError(err, request.JobTemplate!, role, aws.endpointFor('mediaconvert'));
  }
  if (!id) throw new VidpipeError('JOB_NO_ID', 'MediaConvert CreateJob answered without a job id.');
  out.success(`started MediaConvert job ${id} (template ${request.JobTemplate})`);
  return { id, template, status: status ?? 'SUBMITTED' };
}

function translateCreateJobError(err: unknown, templateName: string, role: string, endpoint: string | undefined): VidpipeError {
  const name = awsErrorName(err);
  const message = (err as Error).message;
  if (name === 'NotFoundException')
    return new VidpipeError('TEMPLATE_MISSING', `MediaConvert has no job template ${templateName}: ${message}`, {
      hint: 'Run `vidpipe setup` to install the job templates.',
      exitCode: ExitCode.drift,
      cause: err,
    });
  if (name === 'BadRequestException')
    return new RemoteRejectedError('JOB_REJECTED', `MediaConvert rejected the job: ${message}`, {
      hint: `Check that the role ${role} exists and trusts mediaconvert.amazonaws.com (\`vidpipe status\`).`,
      cause: err,
    });
  if (name === 'ForbiddenException' || name === 'AccessDeniedException')
    return translateAwsError(Object.assign(err as Error, { name: 'AccessDenied' }), { action: /PassRole/i.test(message) ? 'iam:PassRole' : 'mediaconvert:CreateJob', resource: /PassRole/i.test(message) ? role : templateName });
  return translateAwsError(err, { action: 'mediaconvert:CreateJob', resource: templateName, ...(endpoint ? { endpoint } : {}) });
}

async function waitForJob(
  aws: AwsContext,
  config: VidpipeConfig,
  options: UploadOptions,
  ctx: UploadEnv,
  env: NodeJS.ProcessEnv,
  report: UploadReport,
  template: JobTemplateName,
  signal: AbortSignal,
): Promise<Partial<NonNullable<UploadReport['job']>>> {
  const { out } = ctx;
  const jobId = report.job!.id;
  const listener = listenerSourceFor(config, {
    ...(options.listenerUrl ? { listenerUrl: options.listenerUrl } : {}),
    ...(options.publicListener ? { publicListener: true } : {}),
    configPath: ctx.configPath,
    env,
  });
  const mcEndpoint = aws.endpointFor('mediaconvert');
  out.info(`waiting for job ${jobId} (listener ${listener.baseUrl} when it answers, else MediaConvert GetJob)…`);
  const started = Date.now();
  const line = (s: JobSnapshot) =>
    `job ${jobId}: ${s.status}${s.phase ? ` ${s.phase}` : ''}${s.percent !== undefined ? ` ${s.percent}%` : ''} · ${formatElapsed(Date.now() - started)} (via ${s.source})`;
  // On a terminal one line is rewritten after every poll (a sign of life); otherwise a line per change.
  const live = out.interactive && out.verbosity !== 'quiet';
  const state: JobSnapshot = await followJob({
    jobId,
    mediaconvert: () => aws.mediaconvert() as Promise<MediaConvertClient>,
    listener,
    expectedOutputs: jobOutputsFor(config.outputBucket, report.key, template),
    ...(mcEndpoint ? { mediaconvertEndpoint: mcEndpoint } : {}),
    signal,
    onListenerUnavailable: (reason) => out.info(`listener not used: ${reason}; polling MediaConvert GetJob`),
    onUpdate: (s) => {
      if (!live) out.info(line(s));
    },
    onPoll: (s) => {
      if (live) out.stderr.write(`\r\x1b[2K${line(s)}`);
    },
  }).finally(() => {
    if (live) out.stderr.write('\n');
  });
  return {
    status: state.status,
    ...(state.phase ? { phase: state.phase } : {}),
    ...(state.percent !== undefined ? { percent: state.percent } : {}),
    ...(state.outputs ? { outputs: state.outputs } : {}),
    ...(state.errorCode ? { errorCode: state.errorCode } : {}),
    ...(state.errorMessage ? { errorMessage: state.errorMessage } : {}),
    source: state.source,
  };
}

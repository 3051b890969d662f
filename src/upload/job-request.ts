/**
 * The one MediaConvert CreateJob request builder, shared by the S3-triggered Lambda (src/lambda/handler.ts) and
 * `vidpipe upload --start-job`. Pure: the same uploaded object gives the same request, including its
 * ClientRequestToken, so a retried Lambda invocation (or the CLI after the Lambda) does not start a second job.
 */
import { createHash } from 'node:crypto';
import type { CreateJobCommandInput } from '@aws-sdk/client-mediaconvert';
import { expectedOutputs, inputTemplate, jobTemplateResourceName, jobTemplates, type JobTemplateName } from '../../templates/job-templates.js';

/** The uploaded object. At least one of etag / versionId tells one upload of a key from the next. */
export interface UploadedObject {
  bucket: string;
  key: string;
  etag?: string;
  versionId?: string;
}

export interface JobRequestOptions {
  app: string;
  template: JobTemplateName;
  /** The MediaConvert job role (see jobRoleName in src/provision/names.ts). */
  roleArn: string;
  outputBucket: string;
  input: UploadedObject;
  /** From the object's x-amz-meta-post-id; absent for an object uploaded without one. */
  postId?: string;
}

/** How often MediaConvert emits STATUS_UPDATE events (default SECONDS_60; 10 s gives a live progress display). */
export const STATUS_UPDATE_INTERVAL = 'SECONDS_10';

/** The per-upload output prefix: the input key without its extension (`posts/42/talk.mp4` → `posts/42/talk`). */
export function outputPrefixFor(inputKey: string): string {
  const withoutExt = inputKey.replace(/\.[^./]*$/, '');
  const clean = withoutExt.replace(/^\/+|\/+$/g, '');
  return clean === '' ? 'upload' : clean;
}

/** The base name MediaConvert gives outputs when a Destination ends in "/": the input's file name without extension. */
export function inputBaseName(inputKey: string): string {
  const file = inputKey.slice(inputKey.lastIndexOf('/') + 1);
  return file.replace(/\.[^.]*$/, '') || file;
}

/** S3 reports ETags with surrounding quotes in API responses and without them in event records. */
export function normaliseEtag(etag: string | undefined): string | undefined {
  const clean = etag?.replace(/^W\//, '').replace(/^"|"$/g, '');
  return clean === '' ? undefined : clean;
}

/**
 * sha256 of the object's identity and the template, as 64 hex characters (MediaConvert accepts up to 64 ASCII
 * characters). The template is part of it so that one object sent to two templates makes two jobs.
 */
export function clientRequestTokenFor(input: UploadedObject, template: JobTemplateName): string {
  // "null" is the version id of every object written while versioning is off or suspended: each upload overwrites
  // it, so it does not tell one upload from the next; the ETag does (S3 user guide, versioning-workflows).
  const versionId = input.versionId === 'null' ? undefined : input.versionId;
  const version = versionId ? `v:${versionId}` : `e:${normaliseEtag(input.etag) ?? ''}`;
  if (version === 'e:') throw new Error(`s3://${input.bucket}/${input.key}: an ETag or a version id is needed to derive the job's ClientRequestToken`);
  return createHash('sha256').update(['vidpipe-job/1', input.bucket, input.key, version, template].join('\n')).digest('hex');
}

export function buildJobRequest(options: JobRequestOptions): CreateJobCommandInput {
  const { app, template, roleArn, outputBucket, input, postId } = options;
  const prefix = outputPrefixFor(input.key);
  // Settings replace the template's settings as a whole, so the output groups are sent in full with this upload's
  // destinations (the template's own point at the "default" prefix).
  const outputGroups = jobTemplates(outputBucket, prefix)[template].settings.OutputGroups;
  return {
    JobTemplate: jobTemplateResourceName(app, template),
    Role: roleArn,
    Settings: {
      Inputs: [{ ...inputTemplate, FileInput: `s3://${input.bucket}/${input.key}` }],
      OutputGroups: outputGroups,
    },
    // MediaConvert user metadata is string → string; it comes back in every job state change event.
    UserMetadata: { ...(postId ? { postId } : {}), inputKey: input.key, app },
    StatusUpdateInterval: STATUS_UPDATE_INTERVAL,
    ClientRequestToken: clientRequestTokenFor(input, template),
  };
}

/** The files a job started by buildJobRequest writes (what `upload --wait` prints when MediaConvert is the source). */
export function jobOutputsFor(outputBucket: string, inputKey: string, template: JobTemplateName): string[] {
  const out = expectedOutputs(outputBucket, outputPrefixFor(inputKey), inputBaseName(inputKey));
  if (template === 'hls') return [out.hlsPlaylist, ...out.hlsRenditions.map((r) => r.path)];
  // The first frame capture (.0000000), the one a poster image is taken from; the last depends on the video's length.
  if (template === 'thumbnails') return [out.mp4, out.thumbnail(1)];
  return [out.mp4];
}

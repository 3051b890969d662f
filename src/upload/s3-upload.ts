/**
 * One file to S3 with @aws-sdk/lib-storage: a multipart upload streamed from disk, so memory stays near
 * queueSize × partSize whatever the file size. An abort (Ctrl-C) leaves no multipart upload behind.
 */
import { createReadStream } from 'node:fs';
import { AbortMultipartUploadCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { awsErrorName, translateAwsError } from '../aws/errors.js';
import { ExitCode, InterruptedError, VidpipeError } from '../errors.js';
import type { VideoFile } from './media-file.js';

const MiB = 1024 * 1024;
/** S3 multipart limits: parts of 5 MiB to 5 GiB (checked by `upload --part-size`), at most 10,000 of them (S3 user guide, qfacts). */
export const MAX_PARTS = 10_000;

export interface UploadFileOptions {
  s3: S3Client;
  bucket: string;
  key: string;
  file: VideoFile;
  /** Stored as x-amz-meta-post-id. */
  postId?: string;
  partSizeMiB: number;
  /** Parts in flight at once. */
  queueSize: number;
  signal?: AbortSignal;
  onProgress?: (loaded: number, total: number) => void;
  endpoint?: string;
}

export interface UploadedFile {
  bucket: string;
  key: string;
  size: number;
  etag?: string;
  versionId?: string;
  partSize: number;
  parts: number;
  durationMs: number;
}

/** The part size actually used: the one asked for, raised if the file would need more than 10,000 parts. */
export function partSizeFor(size: number, partSizeMiB: number): number {
  return Math.max(partSizeMiB * MiB, Math.ceil(size / MAX_PARTS / MiB) * MiB);
}

let trackerId = 0;

export async function uploadFile(options: UploadFileOptions): Promise<UploadedFile> {
  const { s3, bucket, key, file, signal } = options;
  if (signal?.aborted) throw new InterruptedError('Upload interrupted before it started.');
  const partSize = partSizeFor(file.size, options.partSizeMiB);
  // Count the S3 requests in flight, to know when an aborted upload has really stopped (below).
  let inFlight = 0;
  const trackerName = `vidpipeUploadInFlight${++trackerId}`;
  s3.middlewareStack.add(
    (next) => async (args) => {
      inFlight++;
      try {
        return await next(args);
      } finally {
        inFlight--;
      }
    },
    { step: 'initialize', name: trackerName },
  );
  const body = createReadStream(file.path, { highWaterMark: MiB });
  const upload = new Upload({
    client: s3,
    queueSize: options.queueSize,
    partSize,
    leavePartsOnError: false,
    params: {
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentLength: file.size,
      ContentType: file.contentType,
      ...(options.postId ? { Metadata: { 'post-id': options.postId } } : {}),
    },
  });
  upload.on('httpUploadProgress', (p) => options.onProgress?.(p.loaded ?? 0, p.total ?? file.size));
  const onAbort = () => void upload.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const started = Date.now();
  try {
    const out = await upload.done();
    return {
      bucket,
      key,
      size: file.size,
      ...(out.ETag ? { etag: out.ETag } : {}),
      ...(out.VersionId ? { versionId: out.VersionId } : {}),
      partSize,
      parts: Math.max(1, Math.ceil(file.size / partSize)),
      durationMs: Date.now() - started,
    };
  } catch (err) {
    if (signal?.aborted || (err as Error).name === 'AbortError') {
      await cleanUpAbortedUpload(s3, bucket, key, upload, () => inFlight);
      throw new InterruptedError(`Upload of ${key} interrupted; the partial upload was removed from s3://${bucket}.`);
    }
    throw translateUploadError(err, bucket, options.endpoint);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    body.destroy();
    s3.middlewareStack.remove(trackerName);
  }
}

/**
 * lib-storage's done() rejects as soon as abort() is called, but it sends AbortMultipartUpload only after the parts
 * in flight finish; exiting then would leave those parts stored (and billed). So: wait for the requests in flight,
 * abort the multipart upload ourselves (NoSuchUpload means lib-storage did it first), and wait again.
 */
async function cleanUpAbortedUpload(s3: S3Client, bucket: string, key: string, upload: Upload, inFlight: () => number): Promise<void> {
  const settle = async () => {
    const deadline = Date.now() + 60_000;
    while (inFlight() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  };
  await settle();
  if (upload.uploadId) {
    try {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: upload.uploadId }));
    } catch (err) {
      if (awsErrorName(err) !== 'NoSuchUpload') throw translateAwsError(err, { action: 's3:AbortMultipartUpload', resource: `s3://${bucket}/${key}` });
    }
  }
  await settle();
}

function translateUploadError(err: unknown, bucket: string, endpoint?: string): VidpipeError {
  if (awsErrorName(err) === 'NoSuchBucket')
    return new VidpipeError('BUCKET_MISSING', `The input bucket ${bucket} does not exist.`, {
      hint: 'Run `vidpipe setup` to create the pipeline (or fix inputBucket in vidpipe.config.json).',
      exitCode: ExitCode.drift,
      cause: err,
    });
  return translateAwsError(err, { action: 's3:PutObject', resource: `bucket ${bucket}`, ...(endpoint ? { endpoint } : {}) });
}

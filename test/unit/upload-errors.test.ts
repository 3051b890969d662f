/** AWS refusals during an upload, with S3 mocked (moto does not enforce IAM: moto-notes.md). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateMultipartUploadCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { inspectVideoFile } from '../../src/upload/media-file.js';
import { partSizeFor, uploadFile } from '../../src/upload/s3-upload.js';
import { MP4_FTYP } from '../helpers/video-files.js';

const awsError = (name: string, status: number) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message: name === 'AccessDenied' ? 'Access Denied' : 'The specified bucket does not exist' });

describe('uploadFile errors', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vidpipe-upl-'));
  const small = path.join(dir, 'small.mp4');
  const large = path.join(dir, 'large.mp4');
  writeFileSync(small, Buffer.concat([MP4_FTYP, Buffer.alloc(1000)]));
  writeFileSync(large, Buffer.concat([MP4_FTYP, Buffer.alloc(12 * 1024 * 1024)]));
  const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const mock = mockClient(s3);

  it('access denied names the action and `vidpipe policy` (exit 3)', async () => {
    mock.reset();
    mock.on(PutObjectCommand).rejects(awsError('AccessDenied', 403));
    const file = await inspectVideoFile(small);
    const err = await uploadFile({ s3, bucket: 'b', key: 'k.mp4', file, partSizeMiB: 5, queueSize: 2 }).catch((e) => e);
    expect(err).toMatchObject({ code: 'AWS_ACCESS_DENIED', exitCode: 3, message: 'AWS denied s3:PutObject on bucket b.' });
    expect(err.hint).toContain('`vidpipe policy`');
  });

  it('a missing bucket on a multipart upload says to run setup (exit 4), before any part is sent', async () => {
    mock.reset();
    mock.on(CreateMultipartUploadCommand).rejects(awsError('NoSuchBucket', 404));
    const file = await inspectVideoFile(large);
    const err = await uploadFile({ s3, bucket: 'gone', key: 'k.mp4', file, partSizeMiB: 5, queueSize: 2 }).catch((e) => e);
    expect(err).toMatchObject({ code: 'BUCKET_MISSING', exitCode: 4 });
    expect(err.hint).toContain('vidpipe setup');
    expect(mock.commandCalls(CreateMultipartUploadCommand).length).toBeGreaterThan(0);
  });
});

describe('partSizeFor', () => {
  it('keeps the asked size, or raises it to stay within 10,000 parts', () => {
    const MiB = 1024 * 1024;
    expect(partSizeFor(100 * MiB, 8)).toBe(8 * MiB);
    expect(partSizeFor(200_000 * MiB, 8)).toBe(20 * MiB);
    expect(Math.ceil((200_000 * MiB) / partSizeFor(200_000 * MiB, 8))).toBeLessThanOrEqual(10_000);
  });
});

import { describe, expect, it } from 'vitest';
import { jobTemplates } from '../../templates/job-templates.js';
import { buildJobRequest, clientRequestTokenFor, inputBaseName, jobOutputsFor, normaliseEtag, outputPrefixFor } from '../../src/upload/job-request.js';
import { jobRoleName, roleArn } from '../../src/provision/names.js';

const base = {
  app: 'demo',
  template: 'hls' as const,
  roleArn: 'arn:aws:iam::123456789012:role/demo-mediaconvert-job',
  outputBucket: 'demo-output',
  input: { bucket: 'demo-input', key: 'posts/42/My Talk.mov', etag: '"abc123-3"' },
  postId: '42',
};

describe('buildJobRequest', () => {
  const req = buildJobRequest(base);

  it('names the installed template and the job role', () => {
    expect(req.JobTemplate).toBe('demo-hls');
    expect(req.Role).toBe('arn:aws:iam::123456789012:role/demo-mediaconvert-job');
  });

  it('reads the uploaded object with the template input settings', () => {
    expect(req.Settings?.Inputs).toHaveLength(1);
    const input = req.Settings!.Inputs![0]!;
    expect(input.FileInput).toBe('s3://demo-input/posts/42/My Talk.mov');
    expect(input.AudioSelectors?.['Audio Selector 1']?.DefaultSelection).toBe('DEFAULT');
    expect(input.TimecodeSource).toBe('EMBEDDED');
  });

  it('writes every output group under the per-upload prefix of the output bucket', () => {
    const groups = req.Settings!.OutputGroups!;
    expect(groups.map((g) => g.OutputGroupSettings?.HlsGroupSettings?.Destination)).toEqual(['s3://demo-output/posts/42/My Talk/hls/']);
    // Everything but the destination is the template's.
    const template = jobTemplates('demo-output', 'posts/42/My Talk').hls.settings.OutputGroups;
    expect(groups).toEqual(template);
    const thumbs = buildJobRequest({ ...base, template: 'thumbnails' }).Settings!.OutputGroups!;
    expect(thumbs.map((g) => g.OutputGroupSettings?.FileGroupSettings?.Destination)).toEqual([
      's3://demo-output/posts/42/My Talk/mp4/',
      's3://demo-output/posts/42/My Talk/thumbnails/',
    ]);
  });

  it('links the job back to its post in UserMetadata', () => {
    expect(req.UserMetadata).toEqual({ postId: '42', inputKey: 'posts/42/My Talk.mov', app: 'demo' });
    const { postId: _omit, ...withoutPost } = base;
    expect(buildJobRequest(withoutPost).UserMetadata).toEqual({ inputKey: 'posts/42/My Talk.mov', app: 'demo' });
  });

  it('asks for status updates every 10 seconds', () => {
    expect(req.StatusUpdateInterval).toBe('SECONDS_10');
  });

  it('derives the ClientRequestToken from the object, so a retry gives the same token', () => {
    expect(req.ClientRequestToken).toMatch(/^[0-9a-f]{64}$/);
    expect(buildJobRequest(base).ClientRequestToken).toBe(req.ClientRequestToken);
    // The ETag with or without quotes (API response vs event record) is the same object.
    expect(buildJobRequest({ ...base, input: { ...base.input, etag: 'abc123-3' } }).ClientRequestToken).toBe(req.ClientRequestToken);
    // A re-upload (new ETag), another key, bucket, version or template is another job.
    const other = [
      { ...base, input: { ...base.input, etag: 'def456-3' } },
      { ...base, input: { ...base.input, key: 'posts/42/other.mov' } },
      { ...base, input: { ...base.input, bucket: 'elsewhere' } },
      { ...base, input: { ...base.input, versionId: 'v2' } },
      { ...base, template: 'mp4' as const },
    ].map((o) => buildJobRequest(o).ClientRequestToken);
    expect(new Set([...other, req.ClientRequestToken]).size).toBe(6);
  });

  it('the "null" version id (versioning off or suspended) counts as no version: the ETag decides', () => {
    const withNull = buildJobRequest({ ...base, input: { ...base.input, versionId: 'null' } }).ClientRequestToken;
    expect(withNull).toBe(req.ClientRequestToken);
  });

  it('refuses an object with neither ETag nor version id', () => {
    expect(() => clientRequestTokenFor({ bucket: 'b', key: 'k' }, 'mp4')).toThrow(/ETag or a version id/);
  });
});

describe('naming helpers', () => {
  it('outputPrefixFor drops the extension only', () => {
    expect(outputPrefixFor('posts/42/talk.mp4')).toBe('posts/42/talk');
    expect(outputPrefixFor('a.b/clip')).toBe('a.b/clip');
    expect(outputPrefixFor('clip.final.mkv')).toBe('clip.final');
  });
  it('inputBaseName is the file name without extension', () => {
    expect(inputBaseName('posts/42/My Talk.mov')).toBe('My Talk');
    expect(inputBaseName('x')).toBe('x');
  });
  it('normaliseEtag strips quotes', () => {
    expect(normaliseEtag('"abc"')).toBe('abc');
    expect(normaliseEtag('abc')).toBe('abc');
    expect(normaliseEtag('""')).toBeUndefined();
  });
  it('jobOutputsFor lists what the template writes', () => {
    expect(jobOutputsFor('out', 'p/clip.mp4', 'mp4')).toEqual(['s3://out/p/clip/mp4/clip.mp4']);
    expect(jobOutputsFor('out', 'p/clip.mp4', 'hls')[0]).toBe('s3://out/p/clip/hls/clip.m3u8');
    expect(jobOutputsFor('out', 'p/clip.mp4', 'thumbnails')).toEqual(['s3://out/p/clip/mp4/clip.mp4', 's3://out/p/clip/thumbnails/clip.0000000.jpg']);
  });
  it('job role name and ARN', () => {
    expect(jobRoleName('demo')).toBe('demo-mediaconvert-job');
    expect(roleArn('123456789012', 'r', 'eu-west-1')).toBe('arn:aws:iam::123456789012:role/r');
    expect(roleArn('123456789012', 'r', 'cn-north-1')).toBe('arn:aws-cn:iam::123456789012:role/r');
  });
});

/**
 * `vidpipe upload` end to end: the built CLI as a child process against moto's S3 over real HTTP.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/config.js';
import { motoAvailable, startMoto, type Moto } from '../helpers/moto.js';
import { writeFakeMp4 } from '../helpers/video-files.js';

const BIN = path.resolve('bin/vidpipe.js');
const MiB = 1024 * 1024;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], options: { cwd: string; env: Record<string, string>; onStderr?: (text: string, child: ReturnType<typeof spawn>) => void }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: { ...process.env, NO_COLOR: '1', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      options.onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.runIf(motoAvailable())('vidpipe upload (built CLI, moto S3)', () => {
  let moto: Moto;
  let s3: S3Client;
  let dir: string;
  let big: string;
  let bigSha: string;
  const bigSize = 55 * MiB + 12_345;

  beforeAll(async () => {
    moto = await startMoto();
    s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'demo-input' }));
    dir = mkdtempSync(path.join(tmpdir(), 'vidpipe-upload-'));
    writeFileSync(path.join(dir, 'vidpipe.config.json'), JSON.stringify({ ...defaultConfig('demo'), region: 'us-east-1', trigger: 'none' }, null, 2));
    big = path.join(dir, 'big talk.mp4');
    bigSha = await writeFakeMp4(big, bigSize);
  });
  afterAll(async () => {
    s3?.destroy();
    await moto?.stop();
  });

  it('uploads a 55 MiB file in several parts, byte for byte, with its post id and content type', async () => {
    const run = await runCli(['upload', big, '--post', '42', '--part-size', '5', '--json'], { cwd: dir, env: moto.env });
    expect(run.stderr).toContain('uploaded s3://demo-input/posts/42/big talk.mp4');
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as { uploads: { key: string; size: number; parts: number; postId: string; mbPerSecond: number }[] };
    expect(doc.uploads).toHaveLength(1);
    expect(doc.uploads[0]).toMatchObject({ key: 'posts/42/big talk.mp4', size: bigSize, parts: 12, postId: '42', contentType: 'video/mp4', container: 'mp4' });
    // Progress lines on stderr when it is not a terminal.
    expect(run.stderr).toMatch(/big talk\.mp4: \d+% .* MB\/s ETA/);

    const head = await s3.send(new HeadObjectCommand({ Bucket: 'demo-input', Key: 'posts/42/big talk.mp4' }));
    expect(head.ContentLength).toBe(bigSize);
    expect(head.Metadata).toEqual({ 'post-id': '42' });
    expect(head.ContentType).toBe('video/mp4');
    expect(head.ETag).toMatch(/-12"$/); // a multipart upload of 12 parts
    const body = (await s3.send(new GetObjectCommand({ Bucket: 'demo-input', Key: 'posts/42/big talk.mp4' }))).Body as NodeJS.ReadableStream;
    const hash = createHash('sha256');
    for await (const chunk of body) hash.update(chunk as Buffer);
    expect(hash.digest('hex')).toBe(bigSha);
  }, 120_000);

  it('Ctrl-C mid-upload aborts the multipart upload, leaves no parts and exits 130', async () => {
    let sent = false;
    const run = await runCli(['upload', big, '--key', 'aborted.mp4', '--part-size', '5', '--concurrency', '1'], {
      cwd: dir,
      env: moto.env,
      onStderr: (text, child) => {
        // The first progress line means at least one part is stored.
        if (!sent && /aborted\.mp4: \d+%/.test(text)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(sent).toBe(true);
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(/interrupted; the partial upload was removed/);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'demo-input' }));
    expect(uploads.Uploads ?? []).toEqual([]);
    await expect(s3.send(new HeadObjectCommand({ Bucket: 'demo-input', Key: 'aborted.mp4' }))).rejects.toMatchObject({ name: 'NotFound' });
  }, 120_000);

  it('several files in one command: one object each, under the post', async () => {
    const a = path.join(dir, 'a.mkv');
    const b = path.join(dir, 'b.webm');
    writeFileSync(a, Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x88]), Buffer.from('matroska'), Buffer.alloc(4000, 1)]));
    writeFileSync(b, Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x82, 0x84]), Buffer.from('webm'), Buffer.alloc(3000, 2)]));
    const run = await runCli(['upload', a, b, '--post', '9'], { cwd: dir, env: moto.env });
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual(['s3://demo-input/posts/9/a.mkv', 's3://demo-input/posts/9/b.webm']);
    const heads = await Promise.all(['posts/9/a.mkv', 'posts/9/b.webm'].map((Key) => s3.send(new HeadObjectCommand({ Bucket: 'demo-input', Key }))));
    expect(heads.map((h) => [h.ContentLength, h.ContentType, h.Metadata?.['post-id']])).toEqual([
      [4016, 'video/x-matroska', '9'],
      [3012, 'video/webm', '9'],
    ]);
    // --key names one object.
    const many = await runCli(['upload', a, b, '--key', 'x.mkv'], { cwd: dir, env: moto.env });
    expect(many.code).toBe(2);
    expect(many.stderr).toContain('--key names one object: pass one file with it.');
  });

  it('a missing file: exit 2 and its name', async () => {
    const run = await runCli(['upload', 'nope.mp4'], { cwd: dir, env: moto.env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('nope.mp4: no such file.');
  });

  it('a file that is not a video: exit 2, nothing uploaded', async () => {
    const text = path.join(dir, 'notes.mp4');
    writeFileSync(text, 'just some notes, not a video\n'.repeat(10));
    const run = await runCli(['upload', text, '--json'], { cwd: dir, env: moto.env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('notes.mp4 does not look like a video file (it starts with text ("just some no…"))');
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: 'NOT_A_VIDEO' } });
    await expect(s3.send(new HeadObjectCommand({ Bucket: 'demo-input', Key: 'notes.mp4' }))).rejects.toMatchObject({ name: 'NotFound' });
  });

  it('a missing bucket: exit 4 and "run vidpipe setup"', async () => {
    const other = mkdtempSync(path.join(tmpdir(), 'vidpipe-upload-'));
    writeFileSync(path.join(other, 'vidpipe.config.json'), JSON.stringify({ ...defaultConfig('ghost'), trigger: 'none' }));
    const small = path.join(other, 'clip.mp4');
    await writeFakeMp4(small, 64 * 1024);
    const run = await runCli(['upload', small], { cwd: other, env: moto.env });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('The input bucket ghost-input does not exist.');
    expect(run.stderr).toContain('Run `vidpipe setup`');
  });
});

/**
 * Where `vidpipe local` keeps inputs and outputs: a directory laid out like S3 (<root>/<bucket>/<key>, object
 * metadata beside it in <root>/.meta/<bucket>/<key>.json; bucket names cannot start with "."), or a real S3 endpoint
 * such as moto (path-style, buckets created when missing). Either way the pipeline names objects s3://bucket/key, as
 * MediaConvert and its events do.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';

export interface StoredObject {
  size: number;
  /** Without quotes. */
  etag: string;
  metadata: Record<string, string>;
  /** Object tags (the upload trigger records the job it started in one: src/lambda/handler.ts). */
  tags?: Array<{ Key: string; Value: string }>;
  contentType?: string;
}

export class ObjectNotFound extends Error {}

/** Credentials for the local endpoints: the environment's when set (an emulator may check them), else dummies. */
export function localCredentials(env: NodeJS.ProcessEnv): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY)
    return { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
  return { accessKeyId: 'local', secretAccessKey: 'local' };
}

export interface Storage {
  readonly kind: 'dir' | 's3';
  /** For humans: the directory, or the endpoint. */
  readonly location: string;
  ensureBuckets(buckets: string[]): Promise<void>;
  /** Stores a local file; returns what S3 would answer. */
  putFile(bucket: string, key: string, file: string, options?: { metadata?: Record<string, string>; contentType?: string }): Promise<StoredObject>;
  head(bucket: string, key: string): Promise<StoredObject>;
  /** A local file ffmpeg can read: the object itself (dir) or a copy downloaded into `workDir` (S3). */
  fetch(bucket: string, key: string, workDir: string): Promise<string>;
  delete(bucket: string, key: string): Promise<void>;
  /** The file behind an object (dir storage only). */
  pathOf?(bucket: string, key: string): string;
  /** Replaces an object's tags (dir storage only; an S3 endpoint is given the handler's real S3 calls). */
  putTags?(bucket: string, key: string, tags: Array<{ Key: string; Value: string }>): Promise<void>;
  close(): void;
}

export const CONTENT_TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.mp4': 'video/mp4',
  '.jpg': 'image/jpeg',
  '.mov': 'video/quicktime',
  '.mkv': 'video/x-matroska',
  '.webm': 'video/webm',
};

export function contentTypeOf(key: string): string {
  return CONTENT_TYPES[path.extname(key).toLowerCase()] ?? 'application/octet-stream';
}

/** S3 bucket naming rules; also keeps a bucket from naming "..", ".meta" or a path. */
const BUCKET = /^(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function safeBucket(bucket: string): string {
  if (!BUCKET.test(bucket)) throw new Error(`"${bucket}" is not a valid bucket name`);
  return bucket;
}

function safeKey(key: string): string[] {
  const parts = key.split('/');
  if (!key || parts.some((p) => p === '..' || p === '.') || key.startsWith('/')) throw new Error(`unsafe object key "${key}"`);
  return parts.filter(Boolean);
}

async function md5(file: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

export class DirStorage implements Storage {
  readonly kind = 'dir' as const;
  constructor(readonly location: string) {}

  pathOf(bucket: string, key: string): string {
    return path.join(this.location, safeBucket(bucket), ...safeKey(key));
  }

  private metaOf(bucket: string, key: string): string {
    return `${path.join(this.location, '.meta', safeBucket(bucket), ...safeKey(key))}.json`;
  }

  async ensureBuckets(buckets: string[]): Promise<void> {
    for (const b of buckets) await mkdir(path.join(this.location, safeBucket(b)), { recursive: true });
  }

  async putFile(bucket: string, key: string, file: string, options: { metadata?: Record<string, string>; contentType?: string } = {}): Promise<StoredObject> {
    const target = this.pathOf(bucket, key);
    await mkdir(path.dirname(target), { recursive: true });
    // Copy beside the target, then rename: a reader never sees half an object.
    const tmp = `${target}.${process.pid}.partial`;
    await copyFile(file, tmp);
    const stored: StoredObject = { size: (await stat(tmp)).size, etag: await md5(tmp), metadata: options.metadata ?? {}, contentType: options.contentType ?? contentTypeOf(key) };
    const meta = this.metaOf(bucket, key);
    await mkdir(path.dirname(meta), { recursive: true });
    await writeFile(`${meta}.tmp`, JSON.stringify(stored));
    await rename(`${meta}.tmp`, meta);
    await rename(tmp, target);
    return stored;
  }

  async head(bucket: string, key: string): Promise<StoredObject> {
    const file = this.pathOf(bucket, key);
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch {
      throw new ObjectNotFound(`s3://${bucket}/${key} does not exist (${file})`);
    }
    try {
      const meta = JSON.parse(await readFile(this.metaOf(bucket, key), 'utf8')) as StoredObject;
      if (meta.size === size) return meta;
    } catch {
      // a file put there by hand: describe it
    }
    return { size, etag: await md5(file), metadata: {}, contentType: contentTypeOf(key) };
  }

  /** Replaces the object's tags, as S3's PutObjectTagging does; kept in its metadata file. */
  async putTags(bucket: string, key: string, tags: Array<{ Key: string; Value: string }>): Promise<void> {
    const stored = { ...(await this.head(bucket, key)), tags };
    const meta = this.metaOf(bucket, key);
    await mkdir(path.dirname(meta), { recursive: true });
    await writeFile(`${meta}.tmp`, JSON.stringify(stored));
    await rename(`${meta}.tmp`, meta);
  }

  async fetch(bucket: string, key: string): Promise<string> {
    await this.head(bucket, key);
    return this.pathOf(bucket, key);
  }

  async delete(bucket: string, key: string): Promise<void> {
    await rm(this.pathOf(bucket, key), { force: true });
    await rm(this.metaOf(bucket, key), { force: true });
  }

  close(): void {}
}

export class S3Storage implements Storage {
  readonly kind = 's3' as const;
  private client: Promise<S3Client> | undefined;
  constructor(
    readonly location: string,
    private readonly region: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  private s3(): Promise<S3Client> {
    this.client ??= import('@aws-sdk/client-s3').then(
      ({ S3Client }) =>
        new S3Client({
          region: this.region,
          endpoint: this.location,
          // Emulators serve path-style URLs only (aws-facts §7).
          forcePathStyle: true,
          credentials: localCredentials(this.env),
        }),
    );
    return this.client;
  }

  async ensureBuckets(buckets: string[]): Promise<void> {
    const s3 = await this.s3();
    const { CreateBucketCommand, HeadBucketCommand } = await import('@aws-sdk/client-s3');
    for (const Bucket of buckets) {
      try {
        await s3.send(new HeadBucketCommand({ Bucket }));
      } catch {
        await s3.send(new CreateBucketCommand({ Bucket }));
      }
    }
  }

  async putFile(bucket: string, key: string, file: string, options: { metadata?: Record<string, string>; contentType?: string } = {}): Promise<StoredObject> {
    const s3 = await this.s3();
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    const size = (await stat(file)).size;
    const contentType = options.contentType ?? contentTypeOf(key);
    const out = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(file), ContentLength: size, ContentType: contentType, Metadata: options.metadata ?? {} }),
    );
    return { size, etag: (out.ETag ?? '').replace(/"/g, ''), metadata: options.metadata ?? {}, contentType };
  }

  async head(bucket: string, key: string): Promise<StoredObject> {
    const s3 = await this.s3();
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    try {
      const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { size: out.ContentLength ?? 0, etag: (out.ETag ?? '').replace(/"/g, ''), metadata: out.Metadata ?? {}, ...(out.ContentType ? { contentType: out.ContentType } : {}) };
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) throw new ObjectNotFound(`s3://${bucket}/${key} does not exist`);
      throw err;
    }
  }

  async fetch(bucket: string, key: string, workDir: string): Promise<string> {
    const s3 = await this.s3();
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    let body;
    try {
      body = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body as NodeJS.ReadableStream;
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) throw new ObjectNotFound(`s3://${bucket}/${key} does not exist`);
      throw err;
    }
    await mkdir(workDir, { recursive: true });
    const file = path.join(workDir, `input${path.extname(key)}`);
    await pipeline(body, createWriteStream(file));
    return file;
  }

  async delete(bucket: string, key: string): Promise<void> {
    const s3 = await this.s3();
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }

  close(): void {
    void this.client?.then((c) => c.destroy());
  }
}

/** `--storage`: nothing (the default directory), a path or file:// URL (a directory), or an http(s):// S3 endpoint. */
export function openStorage(spec: string | undefined, defaults: { dir: string; region: string; env?: NodeJS.ProcessEnv }): Storage {
  if (!spec) return new DirStorage(defaults.dir);
  if (/^https?:\/\//i.test(spec)) return new S3Storage(spec.replace(/\/+$/, ''), defaults.region, defaults.env);
  const dir = spec.startsWith('file://') ? new URL(spec).pathname : spec;
  return new DirStorage(path.resolve(dir));
}

/**
 * Where a job's outputs can be seen from the browser. Three kinds of output URI:
 * - s3://bucket/key (MediaConvert on AWS): readable only with the listener's AWS credentials. Thumbnails and segments
 *   get short-lived presigned GET URLs (@aws-sdk/s3-request-presigner); HLS playlists are fetched by the listener and
 *   served with their URIs rewritten (child playlists back through the listener, segments to presigned URLs), because
 *   a presigned master playlist would point at unsigned segment URLs. Without credentials or a region: a reason, and
 *   the page says "not playable here".
 * - http(s)://… (a local runner serving its output directory): played directly.
 * - a file path or file:// URL (local mode, on this machine): served by the listener, but only files under the
 *   directory of one of the job's own outputs, with a media extension (an event cannot make it serve /etc/passwd).
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { createAwsContext, type AwsContext } from '../../../aws/context.js';
import type { JobOutput } from '../../core/job-state.js';

/** Presigned URLs live 15 minutes: enough to start and play a typical clip, short enough to be worthless when leaked.
 *  A longer session re-fetches the playlist (the player does on a 403) and gets fresh URLs. (SigV4 query-string auth
 *  allows 1 s to 7 days: docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html) */
export const PRESIGN_TTL_SECONDS = 15 * 60;

export type OutputLocation = { kind: 's3'; bucket: string; key: string } | { kind: 'http'; url: string } | { kind: 'file'; path: string };

/**
 * Where an output URI can be read. `storageDir`: `vidpipe local`'s folder storage, where s3://bucket/key is the file
 * <storageDir>/<bucket>/<key> (a key that would lead out of the folder is not a location).
 */
export function locate(uri: string, storageDir?: string): OutputLocation | undefined {
  const s3 = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (s3 && storageDir) {
    const file = path.join(storageDir, s3[1] as string, s3[2] as string);
    return insideRoots(file, [path.resolve(storageDir)]) ? { kind: 'file', path: file } : undefined;
  }
  if (s3) return { kind: 's3', bucket: s3[1] as string, key: s3[2] as string };
  if (/^https?:\/\//i.test(uri)) return { kind: 'http', url: uri };
  if (uri.startsWith('file://')) {
    try {
      return { kind: 'file', path: fileURLToPath(uri) };
    } catch {
      return undefined;
    }
  }
  if (path.isAbsolute(uri)) return { kind: 'file', path: path.normalize(uri) };
  return undefined;
}

/** What a local file request may read: media, playlists, images and captions. */
export const SERVABLE_EXTENSIONS: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.m4a': 'audio/mp4',
  '.aac': 'audio/aac',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.vtt': 'text/vtt',
};

export interface S3Media {
  /** Whether presigning is possible here; the reason when not (shown to the user). */
  status(): Promise<{ ok: true } | { ok: false; reason: string }>;
  presign(bucket: string, key: string): Promise<string>;
  getText(bucket: string, key: string, maxBytes: number): Promise<string>;
  size(bucket: string, key: string): Promise<number | undefined>;
  /** Origins the browser will load presigned URLs from (for the Content-Security-Policy). */
  origins(): string[];
  destroy(): void;
}

export interface S3MediaOptions {
  region?: string;
  env?: NodeJS.ProcessEnv;
}

export function createS3Media(options: S3MediaOptions = {}): S3Media {
  const env = options.env ?? process.env;
  const region = options.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
  let ctx: AwsContext | undefined;
  let checked: { at: number; answer: { ok: true } | { ok: false; reason: string } } | undefined;
  const s3 = async (): Promise<S3Client> => {
    ctx ??= createAwsContext({ region, env });
    return ctx.s3();
  };
  const endpoint = () => createAwsContext({ region, env }).endpointFor('s3');

  return {
    async status() {
      if (!region) return { ok: false, reason: 'the listener has no AWS region (set AWS_REGION or the config’s region) to sign S3 URLs with' };
      // The credential chain is asked at most once a minute: a missing profile does not cost a lookup per page.
      if (checked && Date.now() - checked.at < 60_000) return checked.answer;
      let answer: { ok: true } | { ok: false; reason: string };
      try {
        const client = await s3();
        const creds = await client.config.credentials();
        answer = creds.accessKeyId ? { ok: true } : { ok: false, reason: 'the listener has no AWS credentials' };
      } catch {
        answer = { ok: false, reason: 'the listener has no AWS credentials to sign S3 URLs with (configure a profile or AWS_ACCESS_KEY_ID)' };
      }
      checked = { at: Date.now(), answer };
      return answer;
    },
    async presign(bucket, key) {
      const [{ GetObjectCommand }, { getSignedUrl }] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/s3-request-presigner')]);
      return getSignedUrl(await s3(), new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: PRESIGN_TTL_SECONDS });
    },
    async getText(bucket, key, maxBytes) {
      const { GetObjectCommand } = await import('@aws-sdk/client-s3');
      const res = await (await s3()).send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if ((res.ContentLength ?? 0) > maxBytes) throw new Error(`s3://${bucket}/${key} is larger than ${maxBytes} bytes`);
      return (await res.Body?.transformToString('utf-8')) ?? '';
    },
    async size(bucket, key) {
      const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
      try {
        return (await (await s3()).send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength;
      } catch {
        return undefined;
      }
    },
    origins() {
      const custom = endpoint();
      const out = ['https://*.amazonaws.com'];
      if (custom) {
        try {
          out.push(new URL(custom).origin);
        } catch {
          // an invalid endpoint is reported by the SDK when used
        }
      }
      return out;
    },
    destroy() {
      ctx?.destroy();
    },
  };
}

/**
 * The directories a job's local outputs live in: a file request must resolve inside one of them. Both sides are
 * resolved (no `..`), and a symlink pointing out is refused by the caller's realpath check.
 */
export function localRoots(outputs: readonly JobOutput[] | null, storageDir?: string): string[] {
  const roots = new Set<string>();
  for (const o of outputs ?? []) {
    const loc = locate(o.uri, storageDir);
    if (loc?.kind === 'file') roots.add(path.dirname(loc.path));
  }
  return [...roots];
}

export function insideRoots(file: string, roots: readonly string[]): boolean {
  const resolved = path.resolve(file);
  return roots.some((r) => resolved === r || resolved.startsWith(r.endsWith(path.sep) ? r : r + path.sep));
}

export async function fileSize(file: string): Promise<number | undefined> {
  try {
    const st = await stat(file);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Rewrites an HLS playlist's URIs: every URI line and every URI="…" attribute is resolved against the playlist's own
 * location and handed to `map` (which returns a proxied playlist URL or a presigned segment URL).
 */
export async function rewritePlaylist(text: string, base: string, map: (absolute: string) => Promise<string>): Promise<string> {
  const lines = text.split(/\r?\n/);
  const resolve = (ref: string) => new URL(ref, base).toString();
  const out: string[] = [];
  for (const line of lines) {
    const trimmed = line.trim();
    if (!trimmed) {
      out.push(line);
    } else if (trimmed.startsWith('#')) {
      const attrs = [...trimmed.matchAll(/URI="([^"]*)"/g)];
      let rewritten = trimmed;
      for (const m of attrs) rewritten = rewritten.replace(m[0], `URI="${await map(resolve(m[1] as string))}"`);
      out.push(rewritten);
    } else {
      out.push(await map(resolve(trimmed)));
    }
  }
  return out.join('\n');
}

/** s3://bucket/key as a URL the WHATWG parser can resolve relative references against. */
export function s3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

export function fromS3Url(url: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!m) return undefined;
  return { bucket: m[1] as string, key: (m[2] as string).split('/').map(decodeURIComponent).join('/') };
}

/**
 * MediaConvert's REST wire conventions, as both of vidpipe's stand-ins for it speak them: `vidpipe local`'s API
 * (api.ts) and the tests' fake (test/helpers/mediaconvert-fake.ts). Errors are an `x-amzn-ErrorType` header plus
 * `{"message": …}` (what @aws-sdk/client-mediaconvert's deserializers read); list operations return at most 20 items
 * and an opaque `nextToken`; job ids look like `1671476818694-phptj0` (creation time in ms, a dash, 6 lower-case
 * alphanumerics).
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** An error answer: its HTTP status and MediaConvert's error type (BadRequestException, NotFoundException…). */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new RestError(400, 'BadRequestException', message);
export const notFound = (message: string) => new RestError(404, 'NotFoundException', message);

export function sendJson(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomBytes(16).toString('hex'),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(text);
}

/** One page of a list: `maxResults` 1–20 (default 20); the token is the next item's index, opaque to the caller. */
export function pageOf<T>(items: readonly T[], maxResults: string | null | undefined, nextToken: string | null | undefined): { items: T[]; nextToken?: string } {
  const max = Math.min(Math.max(Number(maxResults) || 20, 1), 20);
  const start = nextToken ? Number(Buffer.from(nextToken, 'base64url').toString()) || 0 : 0;
  const next = start + max < items.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
  return { items: items.slice(start, start + max), ...(next ? { nextToken: next } : {}) };
}

export function newJobId(now = Date.now()): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `${now}-${Array.from(randomBytes(6), (b) => alphabet[b % alphabet.length]).join('')}`;
}

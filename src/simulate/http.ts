/**
 * POSTs events the way an EventBridge API destination does (aws-facts §1.1): the whole envelope as JSON, its fixed
 * headers, the connection's auth header, a new connection per request, and a 5 s client timeout.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { RemoteRejectedError, UsageError } from '../errors.js';

/** The headers every API destination request carries, verbatim from the EventBridge user guide. */
export const EVENTBRIDGE_HEADERS = {
  'User-Agent': 'Amazon/EventBridge/ApiDestinations',
  'Content-Type': 'application/json; charset=utf-8',
  Range: 'bytes=0-1048575',
  'Accept-Encoding': 'gzip,deflate',
  Connection: 'close',
} as const;

/** EventBridge's "maximum client execution timeout of 5 seconds". */
export const EVENTBRIDGE_TIMEOUT_MS = 5_000;
/** Enough of an answer to show; a listener's answer is small. */
const MAX_BODY_CHARS = 64 * 1024;

export interface HttpAnswer {
  status: number;
  body: string;
  /** Request to full answer, milliseconds. */
  ms: number;
}

export interface HttpTarget {
  url: URL;
  /** Auth headers (never logged). */
  auth: Record<string, string>;
  timeoutMs?: number;
}

export function postEvent(target: HttpTarget, event: unknown): Promise<HttpAnswer> {
  const body = Buffer.from(JSON.stringify(event));
  const request = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
  const timeoutMs = target.timeoutMs ?? EVENTBRIDGE_TIMEOUT_MS;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      target.url,
      { method: 'POST', headers: { ...EVENTBRIDGE_HEADERS, 'Content-Length': String(body.length), ...target.auth }, timeout: timeoutMs },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < MAX_BODY_CHARS) text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text.slice(0, MAX_BODY_CHARS), ms: performance.now() - started }));
        res.on('error', (err) => reject(unreachable(target.url, err)));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err) => reject(unreachable(target.url, err, timeoutMs)));
    req.end(body);
  });
}

function unreachable(url: URL, err: Error & { code?: string }, timeoutMs = EVENTBRIDGE_TIMEOUT_MS): Error {
  const where = url.href;
  if (err.code === 'ECONNREFUSED')
    return new RemoteRejectedError('LISTENER_UNREACHABLE', `Nothing is listening at ${where} (connection refused): is \`vidpipe listen\` running?`, {
      hint: 'Start it in another terminal with `vidpipe listen`, or pass the listener URL with --to.',
      cause: err,
    });
  if (err.code === 'ETIMEDOUT')
    return new RemoteRejectedError('LISTENER_TIMEOUT', `${where} did not answer within ${timeoutMs / 1000} s (EventBridge gives up after 5 s and retries).`, {
      hint: 'A listener must answer quickly and do slow work after replying.',
      cause: err,
    });
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN')
    return new UsageError('LISTENER_HOST_UNKNOWN', `Cannot resolve the host of ${where} (${err.code}).`, { hint: 'Check --to or listener.url in the config.', cause: err });
  return new RemoteRejectedError('LISTENER_UNREACHABLE', `Cannot reach ${where}: ${err.code ?? err.message}: is \`vidpipe listen\` running?`, { cause: err });
}

/**
 * vidpipe's one retry policy for what the AWS SDK does not retry itself (ARCHITECTURE: AWS calls use the SDK's
 * standard retry strategy — 3 attempts, exponential backoff with full jitter, base 100 ms, cap 20 s; see
 * docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html). Everything else — PutEvents entries that
 * failed inside a 200, IAM's eventual consistency, polling a job, tagging an object after CreateJob, and later the
 * listener's notifier — uses this helper: capped exponential backoff with full jitter, as in "Exponential Backoff And
 * Jitter" (AWS Architecture Blog, 2015): delay = random() × min(maxMs, baseMs × 2^attempt).
 *
 * The clock and the random source are injectable, so tests never sleep and never depend on chance.
 *
 *   backoffDelay(2, { baseMs: 100, maxMs: 2000, random: () => 1 })   // 400
 *   await retry(() => send(), { attempts: 4, baseMs: 100, maxMs: 2000, retryable: (e) => isThrottle(e) })
 */

export interface BackoffOptions {
  /** The delay before the first retry (attempt 0) when random() is 1. */
  baseMs: number;
  /** No delay is longer than this. */
  maxMs: number;
  /** A number in [0, 1); default Math.random. Pass () => 1 for the deterministic upper bound. */
  random?: () => number;
}

/** The delay after failed attempt `attempt` (0 for the first failure): full jitter under a capped exponential. */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt));
  return Math.round((options.random ?? Math.random)() * ceiling);
}

export interface RetryOptions extends BackoffOptions {
  /** Attempts in all, the first one included (≥ 1). */
  attempts: number;
  /** Whether an error is worth another attempt (default: every error). */
  retryable?: (err: unknown, attempt: number) => boolean;
  /** A delay the other side asked for (e.g. Retry-After, in ms); it wins over the computed one when longer. */
  delayFor?: (err: unknown) => number | undefined;
  /** Called before each wait, e.g. to log. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Waits; default a timer that an aborted signal cuts short. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
}

/** A timer as a promise; rejects with the signal's reason when it is aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs fn until it resolves, an error is not retryable, or the attempts are spent (the last error is thrown). */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const wait = options.sleep ?? sleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt + 1 >= options.attempts || (options.retryable && !options.retryable(err, attempt))) throw err;
      const delay = Math.max(backoffDelay(attempt, options), options.delayFor?.(err) ?? 0);
      options.onRetry?.(err, attempt, delay);
      await wait(delay, options.signal);
    }
  }
}

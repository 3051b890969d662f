/** The shared retry policy (issue 12, item 11): capped exponential backoff with full jitter, injectable clock and random. */
import { describe, expect, it } from 'vitest';
import { backoffDelay, retry } from '../../src/util/retry.js';

describe('backoffDelay', () => {
  it('doubles from baseMs up to maxMs, scaled by random()', () => {
    const top = { baseMs: 100, maxMs: 1000, random: () => 1 };
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, top))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(3, { ...top, random: () => 0.5 })).toBe(400);
    expect(backoffDelay(3, { ...top, random: () => 0 })).toBe(0);
  });
});

describe('retry', () => {
  const noWait = () => {
    const waits: number[] = [];
    return { waits, sleep: async (ms: number) => void waits.push(ms) };
  };

  it('retries until it succeeds, waiting the backoff between attempts', async () => {
    const clock = noWait();
    let n = 0;
    const out = await retry(async (attempt) => (++n < 3 ? Promise.reject(new Error(`fail ${attempt}`)) : 'ok'), { attempts: 5, baseMs: 10, maxMs: 100, random: () => 1, sleep: clock.sleep });
    expect(out).toBe('ok');
    expect(clock.waits).toEqual([10, 20]);
  });

  it('throws the last error once the attempts are spent, or at once when not retryable', async () => {
    const clock = noWait();
    await expect(retry(async (a) => Promise.reject(new Error(`fail ${a}`)), { attempts: 3, baseMs: 1, maxMs: 1, sleep: clock.sleep })).rejects.toThrow('fail 2');
    expect(clock.waits).toHaveLength(2);
    let calls = 0;
    await expect(retry(async () => (calls++, Promise.reject(new Error('no'))), { attempts: 3, baseMs: 1, maxMs: 1, retryable: () => false, sleep: clock.sleep })).rejects.toThrow('no');
    expect(calls).toBe(1);
  });

  it('waits at least what the other side asked for (Retry-After)', async () => {
    const clock = noWait();
    let n = 0;
    await retry(async () => (n++ ? 'ok' : Promise.reject(Object.assign(new Error('429'), { retryAfterMs: 5000 }))), {
      attempts: 2,
      baseMs: 10,
      maxMs: 100,
      delayFor: (e) => (e as { retryAfterMs?: number }).retryAfterMs,
      sleep: clock.sleep,
    });
    expect(clock.waits).toEqual([5000]);
  });
});

describe('AWS calls: the SDK standard retry mode, whatever the environment says', () => {
  it('every client is made with retryMode standard and 3 attempts', async () => {
    const { createAwsContext, AWS_MAX_ATTEMPTS } = await import('../../src/aws/context.js');
    const saved = { mode: process.env.AWS_RETRY_MODE, max: process.env.AWS_MAX_ATTEMPTS };
    Object.assign(process.env, { AWS_RETRY_MODE: 'adaptive', AWS_MAX_ATTEMPTS: '10' });
    try {
      const aws = createAwsContext({ region: 'us-east-1' });
      const s3 = await aws.s3();
      expect(await s3.config.maxAttempts()).toBe(AWS_MAX_ATTEMPTS);
      const strategy = await (s3.config.retryStrategy as () => Promise<{ mode?: string }>)();
      expect(strategy.mode).toBe('standard');
      aws.destroy();
    } finally {
      for (const [k, v] of [['AWS_RETRY_MODE', saved.mode], ['AWS_MAX_ATTEMPTS', saved.max]] as const) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  });
});

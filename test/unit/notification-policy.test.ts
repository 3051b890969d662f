import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_RETRY_SCHEDULE, judgeDelivery } from '../../src/listener/core/notification-policy.js';

const base = { firstAttemptAt: 0, now: 0, schedule: DEFAULT_RETRY_SCHEDULE, random: () => 0.5, minIntervalMs: 1000 };

describe('notification policy', () => {
  it('backs off exponentially with equal jitter, capped at 5 minutes', () => {
    const s = { baseMs: 1000, maxMs: 300_000 };
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, s, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, s, () => 1))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffDelay(40, s, () => 1)).toBe(300_000);
    expect(backoffDelay(40, s, () => 0)).toBe(150_000);
    expect(backoffDelay(1, s, () => 0, 800)).toBe(800);
  });

  it('2xx sent; 5xx, 408, timeouts and network errors retried; other 4xx final', () => {
    expect(judgeDelivery({ kind: 'answer', status: 200, body: 'ok' }, { ...base, attempt: 1 })).toEqual({ state: 'sent' });
    for (const r of [
      { kind: 'answer', status: 500, body: 'x' },
      { kind: 'answer', status: 503, body: '' },
      { kind: 'answer', status: 408, body: '' },
      { kind: 'timeout', afterMs: 5000 },
      { kind: 'network', code: 'ECONNREFUSED' },
    ] as const)
      expect(judgeDelivery(r, { ...base, attempt: 3 }).state).toBe('retry');
    for (const [status, body] of [[400, 'invalid_payload'], [403, 'invalid_token'], [404, 'channel_not_found'], [410, 'channel_is_archived']] as const)
      expect(judgeDelivery({ kind: 'answer', status, body }, { ...base, attempt: 1 })).toEqual({ state: 'failed', error: `${status} ${body}` });
  });

  it('429 waits Retry-After seconds (capped at an hour) and holds every later send', () => {
    expect(judgeDelivery({ kind: 'answer', status: 429, body: 'rate_limited', retryAfterSeconds: 30 }, { ...base, now: 1000, attempt: 1 })).toEqual({
      state: 'retry',
      at: 31_000,
      error: '429 rate limited: rate_limited',
      holdAllUntil: 31_000,
    });
    expect(judgeDelivery({ kind: 'answer', status: 429, body: '', retryAfterSeconds: 1e9 }, { ...base, attempt: 1 })).toMatchObject({ at: 3_600_000 });
  });

  it('keeps retrying for 24 hours from the first attempt, then fails', () => {
    const r = { kind: 'answer', status: 503, body: '' } as const;
    expect(judgeDelivery(r, { ...base, attempt: 200, now: 23 * 3600_000 }).state).toBe('retry');
    expect(judgeDelivery(r, { ...base, attempt: 300, now: 24 * 3600_000 })).toEqual({ state: 'failed', error: '503 (gave up after 300 attempts over 24.0 h)' });
  });
});

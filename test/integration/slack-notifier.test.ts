/**
 * The Slack notifier against a real local HTTP server playing Slack, on a real listener and SQLite file. Time and jitter
 * are injected where a test is about them (a fake clock the notifier reads, a fixed random), so no assertion depends on
 * how busy the machine is; the rate-limit tests measure real gaps only as lower bounds.
 */
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/listener/core/store-port.js';
import { startFakeSlack, waitFor, type SlackAnswer } from '../helpers/fake-slack.js';
import { makeEvent, post, startTestListener, tempDir, type TestListener } from '../helpers/listener.js';

const fast = { minIntervalMs: 50, retry: { baseMs: 100 }, pollMs: 50, timeoutMs: 300, random: () => 0.5 };
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

/** A clock the notifier reads: real time plus an offset that tests move forward, as hours passing would. It starts
 * ahead of the real clock, so the rows the listener writes (stamped with real time) are already due. */
function fakeClock(offset = 10 * 60_000) {
  let skew = offset;
  return { now: () => Date.now() + skew, advance: (ms: number) => (skew += ms) };
}

async function setup(script: SlackAnswer[], notifier: Record<string, unknown> = fast) {
  const slack = await startFakeSlack(script);
  const logs = new PassThrough();
  let logText = '';
  logs.on('data', (c) => (logText += c));
  const l = await startTestListener({ slackWebhookUrl: slack.url, notifier, logLevel: 'info', logStream: logs });
  cleanups.push(() => slack.close(), () => l.cleanup());
  return { slack, l, logs: () => logText };
}

async function outbox(l: TestListener, jobId: string): Promise<Notification | undefined> {
  return (await l.store.notificationsForJob(jobId))[0];
}

async function stateIs(l: TestListener, jobId: string, state: Notification['state']): Promise<Notification | false> {
  const n = await outbox(l, jobId);
  return n?.state === state ? n : false;
}

describe('Slack notifier', () => {
  it('200 ok → sent; COMPLETE says post, outputs and duration; the webhook URL is in no log and no row', async () => {
    const { slack, l, logs } = await setup([]);
    await post(l.url, makeEvent('complete-frame-capture', { jobId: 'slack-ok', postId: '42' }));
    const n = await waitFor(() => stateIs(l, 'slack-ok', 'sent'), 5000, 'sent');
    expect(n).toMatchObject({ kind: 'COMPLETE', attempts: 1, lastError: null });
    expect(slack.requests).toHaveLength(1);
    const text: string = slack.requests[0]?.body.text;
    expect(text).toContain('post 42');
    expect(text).toContain('duration 180.0 s');
    expect(text).toContain('s3://DOC-EXAMPLE-BUCKET/file/file.mp4');
    expect(text).toContain('Thumbnail: s3://DOC-EXAMPLE-BUCKET/frameoutput/file.0000036.jpg');
    expect(slack.requests[0]?.headers['content-type']).toBe('application/json');
    expect(logs()).toContain('slack notification sent');
    expect(logs()).not.toContain('SECRETxWEBHOOK');
    const dump = JSON.stringify(l.db.prepare('SELECT * FROM outbox').all()) + JSON.stringify(l.db.prepare('SELECT * FROM inbox').all());
    expect(dump).not.toContain('SECRETxWEBHOOK');
  });

  it('ERROR → error code and message', async () => {
    const { slack, l } = await setup([]);
    await post(l.url, makeEvent('error', { jobId: 'slack-err', postId: '9' }));
    await waitFor(() => stateIs(l, 'slack-err', 'sent'), 5000, 'sent');
    expect(slack.requests[0]?.body.text).toMatch(/Video failed: post 9 \(job slack-err\)\nError 1040: Example error message/);
  });

  it('429 → waits Retry-After seconds, then sends', async () => {
    const { slack, l } = await setup([{ status: 429, body: 'rate_limited', headers: { 'retry-after': '1' } }]);
    await post(l.url, makeEvent('complete-file-group', { jobId: 'slack-429' }));
    await waitFor(() => stateIs(l, 'slack-429', 'sent'), 8000, 'sent');
    expect(slack.requests).toHaveLength(2);
    expect((slack.requests[1]?.at ?? 0) - (slack.requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(await outbox(l, 'slack-429')).toMatchObject({ attempts: 2, lastError: '429 rate limited: rate_limited' });
  });

  it('500 and timeouts → retried, then sent; the delays follow the backoff schedule', async () => {
    const clock = fakeClock();
    const { slack, l } = await setup([{ status: 500, body: 'rollup_error' }, 'hang', { status: 503, body: '' }], { ...fast, clock: clock.now, random: () => 0 });
    await post(l.url, makeEvent('complete-file-group', { jobId: 'slack-500' }));
    // random() = 0: each retry waits half its exponential step (100 ms × 2^(n-1)) — 50, 100, 200 ms — never less than
    // minIntervalMs (50). Real time runs too, so each delay is checked as an upper bound after the attempt.
    for (const [attempt, delay] of [[1, 50], [2, 100], [3, 200]] as const) {
      const n = await waitFor(async () => {
        const row = await outbox(l, 'slack-500');
        return row && row.attempts === attempt && row.state === 'pending' && row;
      }, 5000, `attempt ${attempt}`);
      expect(n.nextAttemptAt - clock.now()).toBeLessThanOrEqual(delay);
      expect(n.lastError).toBe(['500 rollup_error', 'timed out after 300 ms', '503'][attempt - 1]);
    }
    await waitFor(() => stateIs(l, 'slack-500', 'sent'), 5000, 'sent');
    expect(slack.requests).toHaveLength(4);
    expect(await outbox(l, 'slack-500')).toMatchObject({ attempts: 4, lastError: '503' });
  });

  it('a Slack outage of an hour loses nothing: retries at most ~5 minutes apart, then sent', async () => {
    const clock = fakeClock();
    const slack = await startFakeSlack([], { status: 503, body: 'down' });
    const l = await startTestListener({ slackWebhookUrl: slack.url, notifier: { ...fast, retry: {}, clock: clock.now, random: () => 1 } });
    cleanups.push(() => slack.close(), () => l.cleanup());
    await post(l.url, makeEvent('complete-file-group', { jobId: 'slack-outage' }));
    const start = clock.now();
    let attempts = 0;
    while (clock.now() - start < 60 * 60_000) {
      const n = await waitFor(async () => {
        const row = await outbox(l, 'slack-outage');
        return row && row.attempts > attempts && row;
      }, 5000, `attempt ${attempts + 1}`);
      expect(n.state).toBe('pending');
      // Capped: never more than 5 minutes (random() = 1 → the full step).
      expect(n.nextAttemptAt - clock.now()).toBeLessThanOrEqual(5 * 60_000);
      attempts = n.attempts;
      clock.advance(Math.max(0, n.nextAttemptAt - clock.now()));
    }
    expect(attempts).toBeGreaterThan(15); // 8 attempts was the old limit (~85 s)
    slack.answerWith({ status: 200, body: 'ok' });
    const sent = await waitFor(() => stateIs(l, 'slack-outage', 'sent'), 5000, 'sent once Slack is back');
    expect(sent.lastError).toBe('503 down');
  });

  it('gives up only after the retry horizon (24 h by default; configurable) and marks the row failed', async () => {
    const clock = fakeClock();
    const failing = await startFakeSlack([], { status: 500, body: 'rollup_error' });
    const l = await startTestListener({ slackWebhookUrl: failing.url, notifier: { ...fast, retry: { baseMs: 100, maxMs: 60 * 60_000, horizonMs: 3 * 60 * 60_000 }, clock: clock.now } });
    cleanups.push(() => failing.close(), () => l.cleanup());
    await post(l.url, makeEvent('error', { jobId: 'slack-giveup' }));
    const failed = await waitFor(async () => {
      const n = await outbox(l, 'slack-giveup');
      if (n?.state === 'failed') return n;
      if (n?.state === 'pending' && n.attempts > 0) clock.advance(Math.max(0, n.nextAttemptAt - clock.now()));
      return false;
    }, 10_000, 'failed');
    expect(failed.lastError).toMatch(/^500 rollup_error \(gave up after \d+ attempts over [\d.]+ h\)$/);
    expect(failing.requests.length).toBe(failed.attempts);
  });

  it.each([
    [404, 'channel_not_found'],
    [403, 'invalid_token'],
    [400, 'invalid_payload'],
  ])('%i %s → failed with Slack’s reason at once, no retry', async (status, body) => {
    const { slack, l } = await setup([{ status, body }]);
    await post(l.url, makeEvent('complete-file-group', { jobId: `slack-${status}` }));
    const n = await waitFor(() => stateIs(l, `slack-${status}`, 'failed'), 5000, 'failed');
    expect(n).toMatchObject({ attempts: 1, lastError: `${status} ${body}` });
    await new Promise((r) => setTimeout(r, 300));
    expect(slack.requests).toHaveLength(1);
  });

  it('sends at most one message per second per webhook by default', async () => {
    const { slack, l } = await setup([], { pollMs: 50 });
    await Promise.all([1, 2, 3].map((i) => post(l.url, makeEvent('complete-file-group', { jobId: `slack-rate-${i}` }))));
    await waitFor(() => slack.requests.length === 3, 8000, '3 messages');
    const gaps = slack.requests.slice(1).map((r, i) => r.at - (slack.requests[i]?.at ?? 0));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(990);
  });

  it('without SLACK_WEBHOOK_URL, a notification created then is recorded as skipped', async () => {
    const l = await startTestListener({ notifier: fast });
    cleanups.push(() => l.cleanup());
    await post(l.url, makeEvent('complete-file-group', { jobId: 'slack-none' }));
    const n = await waitFor(() => stateIs(l, 'slack-none', 'skipped'), 5000, 'skipped');
    expect(n).toMatchObject({ attempts: 0, lastError: 'SLACK_WEBHOOK_URL is not set' });
  });

  it('a row left pending stays pending through a run without a webhook, and goes out when one is configured again', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.cleanup());
    const dbPath = path.join(tmp.dir, 'left.db');
    const down = await startFakeSlack([], { status: 503, body: '' });
    cleanups.push(() => down.close());
    const first = await startTestListener({ dbPath, slackWebhookUrl: down.url, notifier: { ...fast, retry: { baseMs: 60_000 } } });
    await post(first.url, makeEvent('complete-file-group', { jobId: 'slack-left' }));
    await waitFor(() => down.requests.length === 1, 5000, 'first attempt');
    await first.close();

    const second = await startTestListener({ dbPath, notifier: fast });
    second.db.prepare("UPDATE outbox SET next_attempt_at = 0 WHERE job_id = 'slack-left'").run();
    await new Promise((r) => setTimeout(r, 400)); // ~8 notifier turns
    expect(await outbox(second, 'slack-left')).toMatchObject({ state: 'pending', attempts: 1 });
    await second.close();

    const up = await startFakeSlack([]);
    cleanups.push(() => up.close());
    const third = await startTestListener({ dbPath, slackWebhookUrl: up.url, notifier: fast });
    cleanups.push(() => third.close());
    await waitFor(() => stateIs(third, 'slack-left', 'sent'), 5000, 'sent by the run with a webhook');
    expect(up.requests).toHaveLength(1);
    expect(await outbox(third, 'slack-left')).toMatchObject({ attempts: 2 });
  });

  it('a busy database does not stop the notifier: it waits it out, and each message is sent once', async () => {
    const slack = await startFakeSlack([]);
    const l = await startTestListener({ slackWebhookUrl: slack.url, notifier: fast });
    cleanups.push(() => slack.close(), () => l.cleanup());
    // Another process holds the write lock for 1.5 s, whichever step the notifier is at (claiming the row, or
    // recording that it was sent): the claim is retried by the loop, the record waited out before the lease ends.
    const other = new Database(l.dbPath);
    other.pragma('busy_timeout = 0');
    await post(l.url, makeEvent('complete-file-group', { jobId: 'slack-busy' }));
    other.exec('BEGIN EXCLUSIVE');
    await new Promise((r) => setTimeout(r, 1500));
    other.exec('ROLLBACK');
    other.close();
    await waitFor(() => stateIs(l, 'slack-busy', 'sent'), 10_000, 'sent after the lock');
    // The loop still turns: a later notification goes out too.
    await post(l.url, makeEvent('error', { jobId: 'slack-busy-2' }));
    await waitFor(() => stateIs(l, 'slack-busy-2', 'sent'), 10_000, 'the next one sent');
    expect(slack.requests.filter((r) => String(r.body.text).includes('(job slack-busy)'))).toHaveLength(1);
    expect(slack.requests).toHaveLength(2);
  });

  it('two listeners on one database: one sender at a time, each notification sent once', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.cleanup());
    const dbPath = path.join(tmp.dir, 'shared.db');
    const slack = await startFakeSlack([]);
    const a = await startTestListener({ dbPath, slackWebhookUrl: slack.url, notifier: { ...fast, minIntervalMs: 1 } });
    const b = await startTestListener({ dbPath, slackWebhookUrl: slack.url, notifier: { ...fast, minIntervalMs: 1 } });
    cleanups.push(() => slack.close(), () => a.close(), () => b.close());
    const jobs = Array.from({ length: 12 }, (_, i) => `slack-two-${i}`);
    await Promise.all(jobs.map((jobId, i) => post((i % 2 ? a : b).url, makeEvent('complete-file-group', { jobId }))));
    for (const jobId of jobs) await waitFor(() => stateIs(a, jobId, 'sent'), 10_000, `${jobId} sent`);
    const texts = slack.requests.map((r) => r.body.text as string);
    expect(texts).toHaveLength(jobs.length);
    for (const jobId of jobs) expect(texts.filter((t) => t.includes(`(job ${jobId})`))).toHaveLength(1);
  });
});

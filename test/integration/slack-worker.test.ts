import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/store/store.js';
import { startFakeSlack, waitFor, type SlackAnswer } from '../helpers/fake-slack.js';
import { makeEvent, post, startTestListener, tempDir } from '../helpers/listener.js';
import path from 'node:path';

const fast = { minIntervalMs: 50, baseBackoffMs: 100, pollMs: 50, timeoutMs: 300 };
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function setup(script: SlackAnswer[], notifier: Record<string, number> = fast) {
  const slack = await startFakeSlack(script);
  const logs = new PassThrough();
  let logText = '';
  logs.on('data', (c) => (logText += c));
  const l = await startTestListener({ slackWebhookUrl: slack.url, notifier, logLevel: 'info', logStream: logs });
  cleanups.push(() => slack.close(), () => l.cleanup());
  return { slack, l, logs: () => logText };
}

function outbox(l: Awaited<ReturnType<typeof startTestListener>>, jobId: string): Notification | undefined {
  return l.store.notificationsForJob(jobId)[0];
}

describe('Slack outbox worker', () => {
  it('200 ok → sent; COMPLETE says post, outputs and duration; the webhook URL is in no log and no row', async () => {
    const { slack, l, logs } = await setup([]);
    await post(l.url, makeEvent('complete-frame-capture', { jobId: 'slack-ok', postId: '42' }));
    const n = await waitFor(() => outbox(l, 'slack-ok')?.state === 'sent' && outbox(l, 'slack-ok'), 5000, 'sent');
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
    await waitFor(() => outbox(l, 'slack-err')?.state === 'sent', 5000, 'sent');
    expect(slack.requests[0]?.body.text).toMatch(/Video failed: post 9 \(job slack-err\)\nError 1040: Example error message/);
  });

  it('429 → waits Retry-After seconds, then sends', async () => {
    const { slack, l } = await setup([{ status: 429, body: 'rate_limited', headers: { 'retry-after': '1' } }]);
    await post(l.url, makeEvent('complete-file-group', { jobId: 'slack-429' }));
    await waitFor(() => outbox(l, 'slack-429')?.state === 'sent', 8000, 'sent');
    expect(slack.requests).toHaveLength(2);
    expect((slack.requests[1]?.at ?? 0) - (slack.requests[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(outbox(l, 'slack-429')).toMatchObject({ attempts: 2, lastError: '429 rate limited: rate_limited' });
  });

  it('500 and timeouts → retried with growing backoff, then sent', async () => {
    const { slack, l } = await setup([{ status: 500, body: 'rollup_error' }, 'hang', { status: 503, body: '' }]);
    await post(l.url, makeEvent('complete-file-group', { jobId: 'slack-500' }));
    await waitFor(() => outbox(l, 'slack-500')?.state === 'sent', 10_000, 'sent');
    expect(slack.requests).toHaveLength(4);
    const gaps = slack.requests.slice(1).map((r, i) => r.at - (slack.requests[i]?.at ?? 0));
    // backoff 100 ms × 2^(attempt-1), half of it random: ≥ 50, ≥ 100 (+300 ms timeout), ≥ 200.
    expect(gaps[0]).toBeGreaterThanOrEqual(50);
    expect(gaps[1]).toBeGreaterThanOrEqual(100 + 300);
    expect(gaps[2]).toBeGreaterThanOrEqual(200);
    expect(outbox(l, 'slack-500')?.attempts).toBe(4);
  });

  it('gives up after maxAttempts of 5xx and marks the row failed', async () => {
    const failing = await startFakeSlack([], { status: 500, body: 'rollup_error' });
    const again = await startTestListener({ slackWebhookUrl: failing.url, notifier: { ...fast, maxAttempts: 3 } });
    cleanups.push(() => failing.close(), () => again.cleanup());
    await post(again.url, makeEvent('error', { jobId: 'slack-giveup' }));
    const n = await waitFor(() => outbox(again, 'slack-giveup')?.state === 'failed' && outbox(again, 'slack-giveup'), 8000, 'failed');
    expect(n).toMatchObject({ attempts: 3, lastError: '500 rollup_error (gave up after 3 attempts)' });
    expect(failing.requests).toHaveLength(3);
  });

  it('404 channel_not_found → failed with Slack’s reason, no retry', async () => {
    const { slack, l } = await setup([{ status: 404, body: 'channel_not_found' }]);
    await post(l.url, makeEvent('complete-file-group', { jobId: 'slack-404' }));
    const n = await waitFor(() => outbox(l, 'slack-404')?.state === 'failed' && outbox(l, 'slack-404'), 5000, 'failed');
    expect(n).toMatchObject({ attempts: 1, lastError: '404 channel_not_found' });
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

  it('without SLACK_WEBHOOK_URL, records notifications as skipped', async () => {
    const l = await startTestListener({ notifier: fast });
    cleanups.push(() => l.cleanup());
    await post(l.url, makeEvent('complete-file-group', { jobId: 'slack-none' }));
    const n = await waitFor(() => outbox(l, 'slack-none')?.state === 'skipped' && outbox(l, 'slack-none'), 5000, 'skipped');
    expect(n).toMatchObject({ attempts: 0, lastError: 'SLACK_WEBHOOK_URL is not set' });
  });

  it('loses nothing across a restart: a pending notification is sent by the next run', async () => {
    const tmp = tempDir();
    cleanups.push(() => tmp.cleanup());
    const dbPath = path.join(tmp.dir, 'restart.db');
    const down = await startFakeSlack([], { status: 503, body: '' });
    cleanups.push(() => down.close());
    const first = await startTestListener({ dbPath, slackWebhookUrl: down.url, notifier: { ...fast, baseBackoffMs: 60_000 } });
    await post(first.url, makeEvent('complete-file-group', { jobId: 'slack-restart' }));
    await waitFor(() => down.requests.length === 1, 5000, 'first attempt');
    await first.close();

    const up = await startFakeSlack([]);
    cleanups.push(() => up.close());
    // The retry is scheduled a minute out; move it to now, as time passing would.
    const second = await startTestListener({ dbPath, slackWebhookUrl: up.url, notifier: fast });
    cleanups.push(() => second.close());
    second.db.prepare("UPDATE outbox SET next_attempt_at = 0 WHERE job_id = 'slack-restart'").run();
    await waitFor(() => outbox(second, 'slack-restart')?.state === 'sent', 5000, 'sent after restart');
    expect(up.requests).toHaveLength(1);
    expect(outbox(second, 'slack-restart')?.attempts).toBe(2);
  });
});

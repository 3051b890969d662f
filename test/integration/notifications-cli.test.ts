/**
 * `vidpipe notifications` and `notifications retry`, the built CLI, against the database of a RUNNING listener (a
 * SQLite file, and PostgreSQL): a failed notification is listed with its reason, requeued, and sent by the listener.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { builtCliAvailable, runCli } from '../helpers/cli.js';
import { startFakeSlack, waitFor } from '../helpers/fake-slack.js';
import { makeEvent, post, startTestListener, tempDir } from '../helpers/listener.js';
import { testPostgres } from '../helpers/postgres.js';

const pg = await testPostgres();
const tmp = tempDir('vidpipe-notif-');
afterAll(async () => {
  await pg?.cleanup();
  tmp.cleanup();
});

const stores = [{ name: 'sqlite', database: () => `${tmp.dir}/listener-${Math.random().toString(36).slice(2)}.db` }, ...(pg ? [{ name: 'postgresql', database: () => pg.freshUrl('notif') }] : [])];

describe.runIf(builtCliAvailable()).each(stores)('vidpipe notifications ($name)', (store) => {
  it('lists a failed notification with its reason, retry requeues it, and the running listener sends it', async () => {
    const database = store.database();
    const slack = await startFakeSlack([{ status: 404, body: 'channel_not_found' }]);
    const l = await startTestListener({ database, slackWebhookUrl: slack.url, notifier: { pollMs: 50, minIntervalMs: 1 } });
    try {
      await post(l.url, makeEvent('complete-file-group', { jobId: 'notif-1', postId: '42' }));
      await post(l.url, makeEvent('progressing', { jobId: 'notif-2' }));
      await waitFor(async () => (await l.store.notificationsForJob('notif-1'))[0]?.state === 'failed', 5000, 'failed');
      const env = { VIDPIPE_DATABASE_URL: database };

      const listed = await runCli(['notifications', '--status', 'failed', '--json'], { cwd: tmp.dir, env });
      expect(listed.code).toBe(0);
      const doc = JSON.parse(listed.stdout);
      expect(doc.notifications).toHaveLength(1);
      const row = doc.notifications[0];
      expect(row).toMatchObject({ jobId: 'notif-1', postId: '42', kind: 'COMPLETE', state: 'failed', attempts: 1, lastError: '404 channel_not_found' });

      const human = await runCli(['notifications'], { cwd: tmp.dir, env });
      expect(human.stdout).toMatch(/notif-1\s+COMPLETE failed\s+1\s+404 channel_not_found/);

      // A wrong id changes nothing.
      const bad = await runCli(['notifications', 'retry', String(row.id), '999999'], { cwd: tmp.dir, env });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('Cannot send again: 999999 does not exist. Nothing was changed.');
      expect((await l.store.notificationsForJob('notif-1'))[0]?.state).toBe('failed');

      const retried = await runCli(['notifications', 'retry', String(row.id), '--json'], { cwd: tmp.dir, env });
      expect(retried.code).toBe(0);
      expect(JSON.parse(retried.stdout)).toEqual({ requeued: [row.id], count: 1 });
      await waitFor(async () => (await l.store.notificationsForJob('notif-1'))[0]?.state === 'sent', 10_000, 'sent by the running listener');
      expect(slack.requests).toHaveLength(2);

      const sentAgain = await runCli(['notifications', 'retry', String(row.id)], { cwd: tmp.dir, env });
      expect(sentAgain.code).toBe(2);
      expect(sentAgain.stderr).toContain(`${row.id} is sent`);
      const none = await runCli(['notifications', 'retry', '--failed', '--json'], { cwd: tmp.dir, env });
      expect(JSON.parse(none.stdout)).toEqual({ requeued: [], count: 0 });
    } finally {
      await l.cleanup();
      await slack.close();
    }
  });
});

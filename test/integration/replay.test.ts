/**
 * The archive and `vidpipe replay` on moto with the real listener. What moto 5.2 does (moto/events/models.py):
 * CreateArchive adds a managed rule that archives matching events (replayed ones excluded); StartReplay replays the
 * whole archive synchronously to every rule of the bus — it ignores EventStartTime/EventEndTime and
 * Destination.FilterArns — giving each replayed event a new id and a `replay-name` field; DescribeReplay then says
 * COMPLETED. It never delivers to an API destination, so the relay (test/helpers/eventbridge-relay.ts) carries the
 * rule's events to the listener as an API destination would.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, type VidpipeConfig } from '../../src/config/config.js';
import { writeSecrets } from '../../src/config/secrets.js';
import { awsRequests } from '../helpers/aws-calls.js';
import { builtCliAvailable, runCli } from '../helpers/cli.js';
import { startRelay, type Relay } from '../helpers/eventbridge-relay.js';
import { startTestListener, tableCounts, TEST_KEY } from '../helpers/listener.js';
import { startMediaConvertFake, type MediaConvertFake } from '../helpers/mediaconvert-fake.js';
import { MOTO_REGION, motoAvailable, startMoto, type Moto } from '../helpers/moto.js';

describe.runIf(motoAvailable() && builtCliAvailable())('archive and vidpipe replay (built CLI, moto, real listener)', () => {
  let moto: Moto;
  let fake: MediaConvertFake;
  let listener: Awaited<ReturnType<typeof startTestListener>>;
  let relay: Relay;
  let dir: string;
  let env: Record<string, string>;
  let config: VidpipeConfig;
  const run = (...args: string[]) => runCli(args, { cwd: dir, env: { HOME: dir, ...env } });
  const configFile = () => path.join(dir, 'vidpipe.config.json');

  beforeAll(async () => {
    [moto, fake, listener] = await Promise.all([startMoto({ record: true }), startMediaConvertFake({ region: MOTO_REGION }), startTestListener()]);
    dir = mkdtempSync(path.join(tmpdir(), 'vidpipe-replay-'));
    config = {
      ...defaultConfig('rep'),
      region: MOTO_REGION,
      listener: { url: 'https://listener.example.test/aws/listener/eventbridge/video', auth: 'API_KEY', authHeader: 'x-api-key' },
      trigger: 'none',
      templates: [],
      statuses: ['COMPLETE', 'ERROR', 'PROGRESSING', 'STATUS_UPDATE', 'INPUT_INFORMATION'],
      allowSimulatorSource: true,
    };
    writeFileSync(configFile(), JSON.stringify(config));
    writeSecrets(path.join(dir, '.vidpipe', 'secrets.json'), { apiKeys: [TEST_KEY] });
    env = { ...moto.env, ...fake.env };
    const setup = await run('setup', '--yes');
    expect(setup.code, setup.stderr).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await relay?.stop();
    await Promise.all([moto?.stop(), fake?.close(), listener?.cleanup()]);
  });

  it('setup creates the archive with the rule pattern and retention; status shows it; a second setup makes no mutating call', async () => {
    const status = await run('status', '--json');
    expect(status.code, status.stderr).toBe(0);
    const row = JSON.parse(status.stdout).resources.find((r: { resource: string }) => r.resource === 'archive');
    expect(row).toMatchObject({ status: 'ok', name: 'rep-events', details: { state: 'ENABLED', retention: '7 days' } });
    const mark = moto.recordedRequests().length;
    fake.requests.length = 0;
    const again = await run('setup', '--yes');
    expect(again.stdout).toContain('nothing was changed');
    expect(awsRequests(moto, fake).slice(mark).filter((c) => c.mutating)).toEqual([]);
  }, 60_000);

  it('replayed events reach the listener again, carry replay-name, and leave every job, post and notification as it was', async () => {
    relay = await startRelay({ endpoint: moto.endpoint, region: MOTO_REGION, rule: 'rep-mediaconvert-events', listenerUrl: listener.url, headers: { 'x-api-key': TEST_KEY } });
    const sent = await run('simulate-complete', '--via', 'eventbridge', '--sequence', '--post', '42', '--json');
    expect(sent.code, sent.stderr).toBe(0);
    const { jobIds, entries } = JSON.parse(sent.stdout) as { jobIds: string[]; entries: unknown[] };
    await relay.waitFor(entries.length);
    expect(relay.answers.map((a) => a.status)).toEqual(entries.map(() => 200));

    const db = new Database(listener.dbPath, { readonly: true });
    const before = tableCounts(db);
    const video = async () =>
      ((await (await fetch(`${listener.url}/api/videos/${jobIds[0]}`, { headers: { 'x-api-key': TEST_KEY } })).json()) as { video: { eventCount: number; anomalies: unknown[]; terminalEvents: Array<{ status: string }> } })
        .video;
    // updatedAt is when the listener last wrote the post (it did, with the same values); eventCount counts received events.
    const post = async () => {
      const p = (await (await fetch(`${listener.url}/api/posts/42`, { headers: { 'x-api-key': TEST_KEY } })).json()) as { post: object; video: object };
      return { post: { ...p.post, updatedAt: 0 }, video: { ...p.video, eventCount: 0, terminalEvents: [], statusEventId: '' } };
    };
    const [videoBefore, postBefore] = [await video(), await post()];
    expect(videoBefore).toMatchObject({ status: 'COMPLETE' });

    const replay = await run('replay', '--since', '1h', '--json');
    expect(replay.code, replay.stderr).toBe(0);
    const doc = JSON.parse(replay.stdout);
    expect(doc).toMatchObject({ state: 'COMPLETED', percent: 100, replay: { archive: 'rep-events', rule: expect.stringMatching(/:rule\/rep-mediaconvert-events$/) } });
    expect(doc.name).toMatch(/^rep-\d{8}T\d{6}-[0-9a-f]{4}$/);

    // The archive kept every matching event once; the replay sent each of them through the rule again.
    await relay.waitFor(2 * entries.length);
    const replayed = relay.answers.slice(entries.length);
    expect(replayed.every((a) => a.event['replay-name'] === doc.name)).toBe(true);
    expect(replayed.map((a) => a.status)).toEqual(entries.map(() => 200));

    // Jobs, posts and Slack notifications are as they were; the job and the post read back the same.
    const after = tableCounts(db);
    expect({ ...after, inbox: 0 }).toEqual({ ...before, inbox: 0 });
    // The job reads back the same, except that it counts the replayed events it received and, since moto gives each a
    // new id, lists the replayed COMPLETE beside the original terminal event (same status: no anomaly).
    const videoAfter = await video();
    // Its terminal event is the COMPLETE with the smaller id (the fold's last tie-break), so the id may change, the
    // status and everything it carries do not.
    expect({ ...videoAfter, eventCount: 0, terminalEvents: [], statusEventId: '' }).toEqual({ ...videoBefore, eventCount: 0, terminalEvents: [], statusEventId: '' });
    expect(videoAfter.anomalies).toEqual([]);
    expect(new Set(videoAfter.terminalEvents.map((t) => t.status))).toEqual(new Set(['COMPLETE']));
    expect(videoAfter.eventCount).toBe(videoBefore.eventCount + entries.length);
    expect(await post()).toEqual(postBefore);
    // moto gives a replayed event a new id, so the listener's inbox records it (with its replay-name) beside the original.
    expect(after.inbox).toBe(before.inbox! + entries.length);
    const replayNames = db.prepare('SELECT body FROM inbox').all().map((r) => (JSON.parse((r as { body: string }).body) as { 'replay-name'?: string })['replay-name']);
    expect(replayNames.filter((n) => n === doc.name)).toHaveLength(entries.length);
    db.close();

    // A second replay adds nothing to the jobs either.
    const second = await run('replay', '--since', '1h', '--json');
    expect(second.code, second.stderr).toBe(0);
    await relay.waitFor(3 * entries.length);
    const db2 = new Database(listener.dbPath, { readonly: true });
    expect({ ...tableCounts(db2), inbox: 0 }).toEqual({ ...before, inbox: 0 });
    db2.close();

    const status = await run('replay', '--status', '--json');
    const names = JSON.parse(status.stdout).replays.map((r: { name: string; state: string }) => `${r.name}:${r.state}`);
    expect(names).toEqual([`${JSON.parse(second.stdout).name}:COMPLETED`, `${doc.name}:COMPLETED`]);
  }, 90_000);

  it('checks the window and the archive before calling StartReplay', async () => {
    const backwards = await run('replay', '--since', '1h', '--until', '2h');
    expect(backwards.code).toBe(2);
    expect(backwards.stderr).toContain('must be before --until');
    const future = await run('replay', '--since', '1h', '--until', '2099-01-01T00:00:00Z');
    expect(future.code).toBe(2);
    const garbage = await run('replay', '--since', 'yesterday');
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toContain('30m, 2h, 1d');
    const none = await run('replay');
    expect(none.code).toBe(2);
  }, 30_000);

  it('archiveRetentionDays 0 turns the archive off: setup deletes it, replay says why, teardown knows it', async () => {
    writeFileSync(configFile(), JSON.stringify({ ...config, archiveRetentionDays: 0 }));
    const plan = await run('setup', '--plan');
    expect(plan.stdout).toMatch(/delete\s+EventBridge archive\s+rep-events/);
    expect((await run('setup', '--yes')).code).toBe(0);
    const off = await run('replay', '--since', '1h');
    expect(off.code).toBe(2);
    expect(off.stderr).toContain('archiveRetentionDays');
    // Back on with another retention: created again, then updated in place.
    writeFileSync(configFile(), JSON.stringify({ ...config, archiveRetentionDays: 3 }));
    expect((await run('setup', '--yes')).code).toBe(0);
    writeFileSync(configFile(), JSON.stringify({ ...config, archiveRetentionDays: 14 }));
    expect((await run('setup', '--plan')).stdout).toMatch(/update\s+EventBridge archive\s+rep-events\s+retention 3 days → 14/);
    expect((await run('setup', '--yes')).code).toBe(0);
    const policy = JSON.parse((await run('policy', '--account', '123456789012')).stdout);
    expect(policy.Statement.find((s: { Sid: string }) => s.Sid === 'ReplayArchive')).toMatchObject({ Action: expect.arrayContaining(['events:StartReplay']) });
    expect(policy.Statement.find((s: { Sid: string }) => s.Sid === 'ReadAndRedriveDeadLetters')).toMatchObject({ Action: expect.arrayContaining(['sqs:DeleteMessage']) });

    await relay.stop();
    const teardown = await run('teardown', '--yes');
    expect(teardown.code, teardown.stderr).toBe(0);
    expect(teardown.stdout).toMatch(/delete\s+EventBridge archive\s+rep-events/);
    const missing = await run('replay', '--since', '1h');
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('vidpipe setup');
    expect(readFileSync(configFile(), 'utf8')).toContain('"archiveRetentionDays":14');
  }, 90_000);
});

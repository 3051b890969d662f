/**
 * Issue 13's "done when", end to end on moto with the built CLI: `setup --delivery sqs` → `simulate-complete --via
 * eventbridge` (moto routes it through the rule into the queue vidpipe made) → `listen --pull --forward-to` a local app
 * (a real HTTP server) → the event is stored once, forwarded once, and reported on stdout (NDJSON with --json); the
 * queue drains. No listener URL, no API destination: nothing but AWS credentials on the listener's side.
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtCliAvailable, runCli, spawnListen } from '../helpers/cli.js';
import { startFakeApp } from '../helpers/fake-app.js';
import { waitFor } from '../helpers/fake-slack.js';
import { startMediaConvertFake, type MediaConvertFake } from '../helpers/mediaconvert-fake.js';
import { MOTO_REGION, motoAvailable, startMoto, type Moto } from '../helpers/moto.js';

const KEY = 'e2e-read-key';

describe.runIf(motoAvailable() && builtCliAvailable())('SQS delivery end to end: setup → EventBridge → queue → listen --pull → the app', () => {
  let moto: Moto;
  let fake: MediaConvertFake;
  let app: Awaited<ReturnType<typeof startFakeApp>>;
  let dir: string;
  let env: Record<string, string>;
  let sqs: SQSClient;

  beforeAll(async () => {
    [moto, fake, app] = await Promise.all([startMoto(), startMediaConvertFake({ region: MOTO_REGION }), startFakeApp()]);
    dir = mkdtempSync(path.join(tmpdir(), 'vidpipe-delivery-e2e-'));
    env = { HOME: dir, ...moto.env, ...fake.env, VIDPIPE_API_KEY: KEY };
    sqs = new SQSClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });
  afterAll(async () => {
    sqs?.destroy();
    await Promise.all([moto?.stop(), fake?.close(), app?.close()]);
  });

  it('an event put on the bus is stored once, forwarded once, printed, and taken off the queue', async () => {
    const run = (...args: string[]) => runCli(args, { cwd: dir, env });
    expect((await run('init', '--yes', '--app', 'e2e', '--delivery', 'sqs', '--trigger', 'none', '--templates', 'mp4', '--allow-simulator-source')).code).toBe(0);
    const setup = await run('setup', '--yes');
    expect(setup.code, setup.stderr).toBe(0);

    // The puller finds the queue from the config (GetQueueUrl by the app's name): no --queue-url.
    const dbPath = path.join(dir, 'e2e.db');
    const listener = await spawnListen(['--pull', '--db', dbPath, '--forward-to', app.url, '--json'], { cwd: dir, env });
    try {
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'e2e-events' }));
      expect(listener.stderr()).toContain(QueueUrl!);

      const sent = await run('simulate-complete', '--via', 'eventbridge', '--job-id', 'e2e-job-1', '--post', '77', '--json');
      expect(sent.code, sent.stderr).toBe(0);
      const eventId = JSON.parse(sent.stdout).entries[0].eventId as string;

      await waitFor(() => app.requests.length >= 1, 30_000, 'the app got the event');
      await waitFor(async () => {
        const r = await fetch(`${listener.url}/api/videos/e2e-job-1`, { headers: { 'x-api-key': KEY } });
        return r.status === 200 && ((await r.json()) as { video: { status: string } }).video.status === 'COMPLETE';
      }, 30_000, 'the job COMPLETE at the listener');
      await waitFor(async () => {
        const a = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes!;
        return a.ApproximateNumberOfMessages === '0' && a.ApproximateNumberOfMessagesNotVisible === '0';
      }, 20_000, 'the queue drained');
      await waitFor(() => listener.stdout().includes('e2e-job-1'), 10_000, 'the event on stdout');

      // Forwarded once, as an API destination would send it: EventBridge's own event (its id), the same body.
      expect(app.requests).toHaveLength(1);
      const forwarded = JSON.parse(app.requests[0]!.body);
      expect(forwarded).toMatchObject({ id: eventId, source: 'vidpipe.simulator', detail: { jobId: 'e2e-job-1', status: 'COMPLETE', userMetadata: { postId: '77' } } });
      expect(app.requests[0]!.headers['user-agent']).toBe('Amazon/EventBridge/ApiDestinations');

      // Stored once.
      const db = new Database(dbPath, { readonly: true });
      try {
        expect(db.prepare('SELECT event_id FROM inbox').all()).toEqual([{ event_id: eventId }]);
      } finally {
        db.close();
      }
      // One NDJSON line names the event (stdout carries events only).
      const lines = listener.stdout().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.some((l) => JSON.stringify(l).includes('e2e-job-1'))).toBe(true);
    } finally {
      listener.child.kill('SIGTERM');
      expect((await listener.exited).code).toBe(0);
    }
  }, 120_000);
});
